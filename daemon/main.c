/*
 * cloudsagad: continuous detection-regression testing of AWS accounts.
 * main: parse arguments and hand over; everything else lives in the library.
 */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

int
main(int argc, char *argv[])
{
	log_init(LOG_TO_STDERR, "cloudsagad", LOG_INFO);
	printf("cloudsagad %s\n", CLOUDSAGA_VERSION);
	return 0;
}
