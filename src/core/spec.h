/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spec.h - parsed spec strings: "TYPE[:NAME][,key=value...]".
 *
 * netbe_spec_parse() resolves TYPE exactly against the backend table (or a
 * bhyve form: "tapN", "vmnetN", "valeX:Y"), checks NAME against the
 * backend's name_use and every key against its key list, so a backend's
 * open() only ever sees keys it declared. The typed getters below name the
 * key and the accepted syntax when a value is bad.
 */
#ifndef NETBE_SPEC_H
#define NETBE_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#define NETBE_SPEC_MAX_KV 32

struct netbe_backend;
struct netbe_key;

/* Keys every backend accepts (offload=), terminated by a NULL name. */
extern const struct netbe_key netbe_common_key_table[];

struct netbe_kv {
	const char *key;
	const char *value;
};

struct netbe_spec {
	char *buf;                        /* owned copy, split in place */
	const char *type;                 /* TYPE as written */
	const char *name;                 /* NAME, NULL if absent */
	unsigned nkv;
	struct netbe_kv kv[NETBE_SPEC_MAX_KV];
	const struct netbe_backend *backend;
};

/**
 * netbe_spec_parse() - parse and check @str into @s
 * Return: 0, or -EINVAL with netbe_last_error() naming what was wrong and
 * listing what is accepted; -ENOMEM. On failure @s holds nothing to free.
 */
int netbe_spec_parse(struct netbe_spec *s, const char *str);

/** netbe_spec_free() - release @s; safe on a zeroed or freed spec. */
void netbe_spec_free(struct netbe_spec *s);

/** netbe_spec_get() - the value of the last @key, NULL if absent. */
const char *netbe_spec_get(const struct netbe_spec *s, const char *key);

/** netbe_spec_count() - how many times @key was given. */
unsigned netbe_spec_count(const struct netbe_spec *s, const char *key);

/** netbe_spec_nth() - the value of the @n-th @key (0-based), NULL past end. */
const char *netbe_spec_nth(const struct netbe_spec *s, const char *key,
			   unsigned n);

/**
 * netbe_spec_bool() - @key as on|off|yes|no|true|false|1|0, @def if absent
 * Return: 0, or -EINVAL naming the key and the accepted values.
 */
int netbe_spec_bool(const struct netbe_spec *s, const char *key, bool def,
		    bool *out);

/**
 * netbe_spec_uint() - @key as a decimal number in [@min, @max], @def if
 * absent. Return: 0, or -EINVAL naming the key and the range.
 */
int netbe_spec_uint(const struct netbe_spec *s, const char *key, uint64_t min,
		    uint64_t max, uint64_t def, uint64_t *out);

/**
 * netbe_spec_choice() - @key as one of the NULL-terminated @choices; *out is
 * its index, @def if absent. Return: 0, or -EINVAL listing the choices.
 */
int netbe_spec_choice(const struct netbe_spec *s, const char *key,
		      const char *const *choices, int def, int *out);

#endif /* NETBE_SPEC_H */
