/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * asan-dlopen.c - compiled into the executables of an AddressSanitizer
 * build only (meson.build), never into the library or a release binary.
 *
 * libvdeplug loads its modules (libvdeplug_vde.so, ...) with
 * dlopen(RTLD_DEEPBIND), and the sanitizer runtime refuses that flag and
 * ends the process (google/sanitizers#611). The executable comes first in
 * the dynamic symbol lookup, before the sanitizer runtime, so this
 * dlopen() is the one libvdeplug calls: it drops RTLD_DEEPBIND (the
 * modules define no symbol that another library also defines, so binding
 * them to themselves first changes nothing) and hands the call on to the
 * next dlopen(), the sanitizer's.
 */
#include <dlfcn.h>
#include <stddef.h>

void *dlopen(const char *file, int mode);

/**
 * dlopen() - the next dlopen() in lookup order, without RTLD_DEEPBIND
 * Return: what it returns: a handle, or NULL with dlerror() set.
 */
void *dlopen(const char *file, int mode)
{
	static void *(*next)(const char *, int);

	if (!next)
		*(void **)&next = dlsym(RTLD_NEXT, "dlopen");
	return next ? next(file, mode & ~RTLD_DEEPBIND) : NULL;
}
