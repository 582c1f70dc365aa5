/* The C program TestBuildC builds. */
#include <stdio.h>

int main(void) {
	printf("hello from buildtest's C\n");
	return 0;
}
