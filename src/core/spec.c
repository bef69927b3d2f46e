/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spec.c - the spec grammar: TYPE[:NAME][,key=value...].
 *
 * TYPE is matched exactly against backend names and aliases; there is no
 * prefix matching. The bhyve forms are recognised explicitly: "tapN" and
 * "vmnetN" (a name made of the type and decimal digits) and "valeX:Y".
 * "TYPE:key=value" (as in "tap:fd=7") has no NAME: a first part holding '='
 * is a key. Every failure names what was wrong and lists what is accepted.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "log.h"
#include "spec.h"

#define LIST_MAX 1024

/* Append "a, b (alias c), ..." for every backend to @out. */
static void list_types(char *out, size_t len)
{
	size_t used = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < netbe_nbackends && used < len; i++) {
		const struct netbe_backend *b = netbe_backends[i];
		const char *const *a;

		used += (size_t)snprintf(out + used, len - used, "%s%s",
					 i ? ", " : "", b->name);
		for (a = b->aliases; a && *a && used < len; a++)
			used += (size_t)snprintf(out + used, len - used,
						 " (alias %s)", *a);
	}
}

/* Append the accepted keys of @b, then the common ones, to @out. */
static void list_keys(const struct netbe_backend *b, char *out, size_t len)
{
	const struct netbe_key *lists[] = { b->keys, netbe_common_key_table };
	const struct netbe_key *k;
	size_t used = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < 2; i++)
		for (k = lists[i]; k && k->name && used < len; k++)
			used += (size_t)snprintf(out + used, len - used, "%s%s",
						 used ? ", " : "", k->name);
}

/* Return: true when @s is @prefix followed by one or more digits. */
static bool is_prefix_digits(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) || !s[n])
		return false;
	for (s += n; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Resolve the bhyve forms "tapN", "vmnetN" and "valeX:Y" in @head.
 * Return: the backend, with s->name set, or NULL. */
static const struct netbe_backend *bhyve_form(struct netbe_spec *s, char *head,
					      char *colon)
{
	static const char *const numbered[] = { "tap", "vmnet" };
	unsigned i;

	if (colon) {
		if (strncmp(head, "vale", 4) || !netbe_backend_find("vale"))
			return NULL;
		*colon = ':';
		s->name = head;
		return netbe_backend_find("vale");
	}
	for (i = 0; i < sizeof(numbered) / sizeof(numbered[0]); i++) {
		if (is_prefix_digits(head, numbered[i])) {
			s->name = head;
			return netbe_backend_find(numbered[i]);
		}
	}
	return NULL;
}

/* Whether @s starts with "key=": a key is letters, digits and '_', so a
 * NAME that holds a '=' further on (a libvdeplug URL such as
 * vxvde://239.1.2.3/port=14789, a path with [port=3]) stays a NAME.
 * Return: true for a key=value token. */
static bool starts_with_key(const char *s)
{
	const char *p = s;

	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	return p != s && *p == '=';
}

/* Split the TYPE[:NAME] part @head and find its backend. */
static int parse_head(struct netbe_spec *s, char *head, char **first_kv)
{
	char *colon = strchr(head, ':');
	char types[LIST_MAX];

	*first_kv = NULL;
	if (colon) {
		*colon = '\0';
		if (starts_with_key(colon + 1))
			*first_kv = colon + 1;
		else
			s->name = colon + 1;
	}
	s->type = head;
	s->backend = netbe_backend_find(head);
	if (!s->backend && !*first_kv)
		s->backend = bhyve_form(s, head, s->name ? colon : NULL);
	if (s->backend)
		return 0;
	list_types(types, sizeof(types));
	if (!*head)
		return netbe_errf(-EINVAL, "spec has no TYPE: use TYPE[:NAME][,key=value...]; known types: %s",
				  types);
	return netbe_errf(-EINVAL, "unknown backend type '%s'; known types: %s (netbe list shows their keys)",
			  head, types);
}

/* Check NAME against what the backend takes. */
static int check_name(const struct netbe_spec *s)
{
	const struct netbe_backend *b = s->backend;

	if (s->name && !*s->name)
		return netbe_errf(-EINVAL, "%s: empty NAME after ':'; use %s:NAME (%s)",
				  b->name, b->name, b->name_help ? b->name_help : "a name");
	if (s->name && b->name_use == NETBE_NAME_NONE)
		return netbe_errf(-EINVAL, "%s: takes no NAME (got '%s'); use %s[,key=value...]",
				  b->name, s->name, b->name);
	if (!s->name && b->name_use == NETBE_NAME_REQUIRED)
		return netbe_errf(-EINVAL, "%s: needs a NAME: use %s:NAME (%s)", b->name,
				  b->name, b->name_help ? b->name_help : "a name");
	return 0;
}

const struct netbe_key netbe_common_key_table[] = {
	{ "offload", "auto|native|soft|off: offloads offered to the frontend: native where the backend can, software elsewhere (auto, the default); native only; all in software; none", 0 },
	{ "mac", "ADDR: the frontend's MAC address; frames it sends from another source address are dropped and counted as tx_spoofed", 0 },
	{ "tx_loss", "PCT: fault injection, frames from the frontend dropped (0 to 100, decimals allowed)", 0 },
	{ "tx_delay", "MS: fault injection, frames from the frontend held this long (0 to 60000)", 0 },
	{ "tx_jitter", "MS: fault injection, plus or minus up to this much on tx_delay (0 to 60000)", 0 },
	{ "tx_reorder", "PCT: fault injection, frames from the frontend held back until the next one passed", 0 },
	{ "tx_dup", "PCT: fault injection, frames from the frontend sent twice", 0 },
	{ "tx_corrupt", "PCT: fault injection, frames from the frontend with one bit flipped past the Ethernet header", 0 },
	{ "rx_loss", "PCT: fault injection, frames to the frontend dropped (0 to 100, decimals allowed)", 0 },
	{ "rx_delay", "MS: fault injection, frames to the frontend held this long (0 to 60000)", 0 },
	{ "rx_jitter", "MS: fault injection, plus or minus up to this much on rx_delay (0 to 60000)", 0 },
	{ "rx_reorder", "PCT: fault injection, frames to the frontend held back until the next one passed", 0 },
	{ "rx_dup", "PCT: fault injection, frames to the frontend delivered twice", 0 },
	{ "rx_corrupt", "PCT: fault injection, frames to the frontend with one bit flipped past the Ethernet header", 0 },
	{ "fault_seed", "N: seed of the fault injection generator, for a run that can be replayed (default: random)", 0 },
	{ "capture", "PATH: write the frames the frontend sends and receives to PATH (pcapng unless capture_format=pcap); handles of one process may share a file", 0 },
	{ "snaplen", "1..262144: bytes kept of each captured frame (default 262144)", 0 },
	{ "capture_format", "pcapng|pcap: the capture file's format (default pcapng: direction and virtio-net header per frame)", 0 },
	{ "tx_bytes", "SIZE/REFILL_MS[/BURST]: limit the bytes the frontend sends to SIZE per REFILL_MS ms (k, M, G: 1000-based), plus a one-time BURST", 0 },
	{ "tx_ops", "SIZE/REFILL_MS[/BURST]: limit the frames the frontend sends to SIZE per REFILL_MS ms, plus a one-time BURST", 0 },
	{ "rx_bytes", "SIZE/REFILL_MS[/BURST]: limit the bytes the frontend receives to SIZE per REFILL_MS ms (k, M, G: 1000-based), plus a one-time BURST", 0 },
	{ "rx_ops", "SIZE/REFILL_MS[/BURST]: limit the frames the frontend receives to SIZE per REFILL_MS ms, plus a one-time BURST", 0 },
	{ "rate_group", "NAME: handles of this process with the same NAME share their rate limit buckets", 0 },
	{ .name = NULL },
};

/* @key in the NULL-terminated @keys, or NULL. */
static const struct netbe_key *key_in(const struct netbe_key *keys,
				      const char *key)
{
	const struct netbe_key *k;

	for (k = keys; k && k->name; k++)
		if (!strcmp(k->name, key))
			return k;
	return NULL;
}

static const struct netbe_key *find_key(const struct netbe_backend *b,
					const char *key)
{
	const struct netbe_key *k = key_in(b->keys, key);

	return k ? k : key_in(netbe_common_key_table, key);
}

/* Split one "key=value" token and check it against the backend's keys. */
static int add_kv(struct netbe_spec *s, char *tok)
{
	const struct netbe_backend *b = s->backend;
	const struct netbe_key *k;
	char *eq = strchr(tok, '=');
	char keys[LIST_MAX];

	list_keys(b, keys, sizeof(keys));
	if (!eq || eq == tok)
		return netbe_errf(-EINVAL, "%s: '%s' is not key=value; accepted keys: %s",
				  b->name, tok, keys);
	*eq = '\0';
	k = find_key(b, tok);
	if (!k)
		return netbe_errf(-EINVAL, "%s: unknown key '%s'; accepted keys: %s",
				  b->name, tok, keys);
	if (!eq[1])
		return netbe_errf(-EINVAL, "%s: key '%s' has no value (%s)",
				  b->name, tok, k->help);
	if (!(k->flags & NETBE_KEY_REPEAT) && netbe_spec_get(s, tok))
		return netbe_errf(-EINVAL, "%s: key '%s' given twice", b->name, tok);
	if (s->nkv == NETBE_SPEC_MAX_KV)
		return netbe_errf(-EINVAL, "%s: more than %d keys", b->name,
				  NETBE_SPEC_MAX_KV);
	s->kv[s->nkv].key = tok;
	s->kv[s->nkv].value = eq + 1;
	s->nkv++;
	return 0;
}

/* Parse the comma-separated keys in @rest (may be NULL). */
static int parse_kvs(struct netbe_spec *s, char *first, char *rest)
{
	char *tok, *save = NULL;
	int ret;

	if (first && (ret = add_kv(s, first)))
		return ret;
	for (tok = rest ? strtok_r(rest, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save))
		if ((ret = add_kv(s, tok)))
			return ret;
	return 0;
}

int netbe_spec_parse(struct netbe_spec *s, const char *str)
{
	char *comma, *first_kv;
	int ret;

	memset(s, 0, sizeof(*s));
	if (!str || !*str)
		return netbe_errf(-EINVAL, "empty spec: use TYPE[:NAME][,key=value...], e.g. tap:tap0 or slirp (netbe list shows the types)");
	s->buf = strdup(str);
	if (!s->buf)
		return netbe_errf(-ENOMEM, "spec: out of memory");
	comma = strchr(s->buf, ',');
	if (comma)
		*comma = '\0';
	ret = parse_head(s, s->buf, &first_kv);
	if (!ret)
		ret = check_name(s);
	if (!ret)
		ret = parse_kvs(s, first_kv, comma ? comma + 1 : NULL);
	if (ret)
		netbe_spec_free(s);
	return ret;
}

void netbe_spec_free(struct netbe_spec *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

const char *netbe_spec_get(const struct netbe_spec *s, const char *key)
{
	const char *v = NULL;
	unsigned i;

	for (i = 0; i < s->nkv; i++)
		if (!strcmp(s->kv[i].key, key))
			v = s->kv[i].value;
	return v;
}

unsigned netbe_spec_count(const struct netbe_spec *s, const char *key)
{
	unsigned i, n = 0;

	for (i = 0; i < s->nkv; i++)
		n += !strcmp(s->kv[i].key, key);
	return n;
}

const char *netbe_spec_nth(const struct netbe_spec *s, const char *key,
			   unsigned n)
{
	unsigned i;

	for (i = 0; i < s->nkv; i++)
		if (!strcmp(s->kv[i].key, key) && n-- == 0)
			return s->kv[i].value;
	return NULL;
}

/* Name of the backend a spec belongs to, for messages. */
static const char *spec_owner(const struct netbe_spec *s)
{
	return s->backend ? s->backend->name : "spec";
}

int netbe_spec_bool(const struct netbe_spec *s, const char *key, bool def,
		    bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	const char *v = netbe_spec_get(s, key);
	unsigned i;

	*out = def;
	if (!v)
		return 0;
	for (i = 0; i < 4; i++) {
		if (!strcmp(v, yes[i]) || !strcmp(v, no[i])) {
			*out = !strcmp(v, yes[i]);
			return 0;
		}
	}
	return netbe_errf(-EINVAL, "%s: bad value '%s' for key '%s': expected on or off",
			  spec_owner(s), v, key);
}

int netbe_spec_uint(const struct netbe_spec *s, const char *key, uint64_t min,
		    uint64_t max, uint64_t def, uint64_t *out)
{
	const char *v = netbe_spec_get(s, key);
	unsigned long long n;
	char *end;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno || n < min || n > max)
		return netbe_errf(-EINVAL, "%s: bad value '%s' for key '%s': expected a number from %llu to %llu",
				  spec_owner(s), v, key, (unsigned long long)min,
				  (unsigned long long)max);
	*out = n;
	return 0;
}

int netbe_spec_choice(const struct netbe_spec *s, const char *key,
		      const char *const *choices, int def, int *out)
{
	const char *v = netbe_spec_get(s, key);
	char list[LIST_MAX];
	size_t used = 0;
	int i;

	*out = def;
	if (!v)
		return 0;
	for (i = 0; choices[i]; i++) {
		if (!strcmp(v, choices[i])) {
			*out = i;
			return 0;
		}
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used,
						 "%s%s", i ? ", " : "", choices[i]);
	}
	return netbe_errf(-EINVAL, "%s: bad value '%s' for key '%s': expected one of %s",
			  spec_owner(s), v, key, list);
}
