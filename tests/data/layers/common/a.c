/*
 * A common file that reaches up into daemon/: check-layers must refuse it.
 */
#include <stdio.h>

#include "d.h"
