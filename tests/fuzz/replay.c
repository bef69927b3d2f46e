/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replay.c - run a libFuzzer target over every file of corpus directories
 * (or single files), so seed corpora replay in every test run without
 * libFuzzer. Each input is copied into a buffer of exactly its size, so
 * ASan builds catch reads past the end. Prints TAP: one line per file; a
 * crash or a failed invariant aborts, which fails the test.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count;

/* Feed the file @path to the target. Return: 0, or -1 if unreadable. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long size;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -1;
	}
	buf = malloc(size ? (size_t)size : 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	printf("ok %d - %s\n", ++count, path);
	return 0;
}

/* Return: strcmp order for scandir. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Feed every regular file in @dir. Return: 0, or -1 on an unreadable one. */
static int replay_dir(const char *dir)
{
	struct dirent **ents;
	char path[4096];
	int n, i, rc = 0;

	n = scandir(dir, &ents, NULL, by_name);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    replay_file(path) < 0)
			rc = -1;
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int main(int argc, char **argv)
{
	int i, bad = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		int rc = stat(argv[i], &st) < 0 ? -1 :
			 S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]);

		if (rc < 0) {
			printf("not ok %d - %s: %s\n", ++count, argv[i], strerror(errno));
			bad = 1;
		}
	}
	if (count == 0) {
		printf("not ok 1 - no corpus files given\n");
		count = 1;
		bad = 1;
	}
	printf("1..%d\n", count);
	return bad;
}
