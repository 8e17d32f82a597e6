/*
 * The only host header vm/ may use beyond the freestanding set, reduced
 * to what the i386 machine provides: the freestanding compile check puts
 * this directory first (with -nostdinc; limits.h here too), so a vm/ file that reaches for
 * any other host header fails to build.
 */
#ifndef VMSCOPE_FREESTANDING_STRING_H
#define VMSCOPE_FREESTANDING_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
char *strcpy(char *restrict dst, const char *restrict src);
char *strncpy(char *restrict dst, const char *restrict src, size_t n);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);

#endif
