/*
 * The program init execs in a child: it says who it is and exits with a
 * status init checks (42), so exec and exit statuses are seen end to end.
 */
#include "ulib.h"

static const char greeting[] = "hello from an exec'd image";
static int counter = 41; /* .data, from the file */
static char bss[8192];   /* .bss, zero */

int main(void)
{
	int zero = bss[0] == 0 && bss[sizeof(bss) - 1] == 0;
	printf("greet: %s, pid %d, data %d, bss %s\n", greeting, getpid(), counter,
	       zero ? "zero" : "NOT ZERO");
	return zero ? counter + 1 : 1;
}
