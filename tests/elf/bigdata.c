/*
 * An i386 executable with 6 MB of initialized data: exec of it runs out of
 * memory on a small machine, after the old image is gone.
 */
char big_data[6 << 20] = { 1 };

void _start(void)
{
	for (;;)
		;
}
