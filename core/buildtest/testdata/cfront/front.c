/* The C program TestBuildC builds: it prints its version macros as the C front would. */
#include <stdio.h>

#ifndef AWSKEEP_VERSION
#define AWSKEEP_VERSION "none"
#endif
#ifndef AWSKEEP_COMMIT
#define AWSKEEP_COMMIT "none"
#endif

int main(void) {
	printf("hello from buildtest's C: %s %s\n", AWSKEEP_VERSION, AWSKEEP_COMMIT);
	return 0;
}
