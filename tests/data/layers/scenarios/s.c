/*
 * s: a scenario file that parses configuration itself: check-layers must
 * refuse it.
 */
#include <libconfig.h>
