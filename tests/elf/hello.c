/*
 * A small i386 executable for exec tests: known bytes in .rodata
 * (0x08050000) and .data (0x08060000), a 64 KB .bss after the data.
 * The hosted machine never runs it; the i386 machine will.
 */
const char rodata_marker[] = "vmscope rodata";
char data_marker[] = "vmscope data";
char bss_area[65536];

void _start(void)
{
	bss_area[0] = data_marker[0];
	for (;;)
		;
}
