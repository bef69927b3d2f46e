/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz-spec.c - libFuzzer target for the spec string parser.
 *
 * Input: the bytes of a spec string (cut at the first NUL). The target
 * runs netbe_spec_parse() and checks what it says, aborting on a broken
 * invariant:
 *  - a failure is -EINVAL or -ENOMEM with a non-empty one-line message in
 *    netbe_last_error(), and leaves nothing to free;
 *  - a success names a registered backend whose name or alias is the
 *    TYPE exactly (no prefix matching), at most NETBE_SPEC_MAX_KV keys,
 *    each non-empty and free of ',' and '=', each accepted by the backend
 *    or common to all, and a NAME only where the backend takes one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-spec: %s:%d: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static void quiet_log(void *opaque, enum netbe_log_level level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/* Return: whether @type is @b's name or one of its aliases, exactly. */
static bool names_backend(const struct netbe_backend *b, const char *type)
{
	const char *const *a;

	if (!strcmp(b->name, type))
		return true;
	for (a = b->aliases; a && *a; a++)
		if (!strcmp(*a, type))
			return true;
	return false;
}

/* Return: whether @key is in the NULL-terminated table @t. */
static bool key_in(const struct netbe_key *t, const char *key)
{
	for (; t && t->name; t++)
		if (!strcmp(t->name, key))
			return true;
	return false;
}

static void check_success(const struct netbe_spec *s)
{
	unsigned i;

	ASSERT(s->backend && s->type);
	/* bhyve's tapN/vmnetN/valeX:Y forms name no backend literally */
	ASSERT(names_backend(s->backend, s->type) || netbe_backend_find(s->type) == NULL);
	ASSERT(s->nkv <= NETBE_SPEC_MAX_KV);
	ASSERT(!s->name || s->backend->name_use != NETBE_NAME_NONE);
	for (i = 0; i < s->nkv; i++) {
		const char *k = s->kv[i].key;

		ASSERT(k && *k && !strchr(k, ',') && !strchr(k, '='));
		ASSERT(s->kv[i].value);
		ASSERT(key_in(s->backend->keys, k) || key_in(netbe_common_key_table, k));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct netbe_spec s;
	char *str = malloc(size + 1);
	const char *msg;
	int ret;

	if (!quiet) {
		netbe_set_log(quiet_log, NULL, NETBE_LOG_ERR);
		quiet = true;
	}
	if (!str)
		return 0;
	memcpy(str, data, size);
	str[size] = '\0';
	ret = netbe_spec_parse(&s, str);
	if (ret) {
		msg = netbe_last_error();
		ASSERT(ret == -EINVAL || ret == -ENOMEM);
		ASSERT(msg && *msg && !strchr(msg, '\n'));
	} else {
		check_success(&s);
		netbe_spec_free(&s);
	}
	free(str);
	return 0;
}
