/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-spec.c - the spec grammar and the registry: good specs parse into
 * the right backend, name and keys; bad ones fail with -EINVAL and a
 * message that names what was wrong and lists what is accepted.
 */
#include <errno.h>

#include "backend.h"
#include "harness.h"
#include "netbe.h"
#include "spec.h"

/* Parse @str expecting success; checks type, name and key count. */
static void expect_ok(const char *str, const char *backend, const char *name,
		      unsigned nkv)
{
	struct netbe_spec s;
	int ret = netbe_spec_parse(&s, str);

	CHECK_EQ(ret, 0);
	if (ret) {
		printf("# '%s': %s\n", str, netbe_last_error());
		return;
	}
	CHECK(!strcmp(s.backend->name, backend));
	CHECK(name ? s.name && !strcmp(s.name, name) : !s.name);
	CHECK_EQ(s.nkv, nkv);
	netbe_spec_free(&s);
}

/* Parse @str expecting -EINVAL and a message holding each of @parts. */
static void expect_bad(const char *str, const char *part1, const char *part2)
{
	struct netbe_spec s;

	CHECK_EQ(netbe_spec_parse(&s, str), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), part1);
	if (part2)
		CHECK_STR_CONTAINS(netbe_last_error(), part2);
	CHECK(s.buf == NULL);
}

static void good_specs(void)
{
	expect_ok("tap:tap0", "tap", "tap0", 0);
	expect_ok("tap:tap0,vnet_hdr=off", "tap", "tap0", 1);
	expect_ok("tap:fd=7", "tap", NULL, 1);
	expect_ok("tap:fd=7,vnet_hdr=on", "tap", NULL, 2);
	expect_ok("vmnet:v1", "tap", "v1", 0);
	expect_ok("pair:x,depth=4", "pair", "x", 1);
	expect_ok("null", "null", NULL, 0);
	/* a NAME holding a '=' after something that is not a key: a
	 * libvdeplug URL or path with parameters */
	expect_ok("tap:sw[port=3]", "tap", "sw[port=3]", 0);
	expect_ok("tap:x://239.1.2.3/port=1,vnet_hdr=off", "tap", "x://239.1.2.3/port=1", 1);
}

static void bhyve_forms(void)
{
	expect_ok("tap0", "tap", "tap0", 0);
	expect_ok("tap12", "tap", "tap12", 0);
	expect_ok("vmnet0", "tap", "vmnet0", 0);
	expect_ok("vmnet3,vnet_hdr=off", "tap", "vmnet3", 1);
}

static void unknown_type_lists_known(void)
{
	expect_bad("foo:bar", "unknown backend type 'foo'", "tap (alias vmnet)");
	expect_bad("tapx", "unknown backend type 'tapx'", "pair");
	expect_bad("ta", "'ta'", "null");
	expect_bad("tap0x", "'tap0x'", NULL);
	expect_bad("TAP:x", "'TAP'", NULL);
}

static void unknown_key_lists_accepted(void)
{
	expect_bad("tap:t0,bogus=1", "unknown key 'bogus'", "accepted keys: fd, vnet_hdr");
	expect_bad("pair:x,dept=1", "unknown key 'dept'", "depth");
	expect_bad("null,x=1", "unknown key 'x'", "accepted keys: offload");
}

static void malformed_keys(void)
{
	expect_bad("pair:x,depth", "'depth' is not key=value", "depth");
	expect_bad("pair:x,=3", "is not key=value", NULL);
	expect_bad("pair:x,depth=", "key 'depth' has no value", NULL);
	expect_bad("pair:x,depth=1,depth=2", "given twice", NULL);
}

static void name_rules(void)
{
	expect_bad("pair", "pair: needs a NAME", NULL);
	expect_bad("pair:", "empty NAME", NULL);
	expect_bad("null:x", "takes no NAME", "'x'");
	expect_bad("", "empty spec", NULL);
	expect_bad(":x", "no TYPE", NULL);
	CHECK_EQ(netbe_spec_parse(&(struct netbe_spec){ 0 }, NULL), -EINVAL);
}

/* Parse @str (must succeed) and read key @key as a number. */
static int get_uint(const char *str, const char *key, uint64_t *v)
{
	struct netbe_spec s;
	int ret = netbe_spec_parse(&s, str);

	if (ret)
		return 99;
	ret = netbe_spec_uint(&s, key, 1, 100, 42, v);
	netbe_spec_free(&s);
	return ret;
}

static void typed_values(void)
{
	struct netbe_spec s;
	uint64_t v;
	bool b;

	CHECK_EQ(get_uint("pair:x,depth=7", "depth", &v), 0);
	CHECK_EQ(v, 7);
	CHECK_EQ(get_uint("pair:x", "depth", &v), 0);
	CHECK_EQ(v, 42);
	CHECK_EQ(get_uint("pair:x,depth=101", "depth", &v), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "bad value '101' for key 'depth'");
	CHECK_STR_CONTAINS(netbe_last_error(), "from 1 to 100");
	CHECK_EQ(get_uint("pair:x,depth=-1", "depth", &v), -EINVAL);
	CHECK_EQ(get_uint("pair:x,depth=1x", "depth", &v), -EINVAL);
	CHECK_EQ(get_uint("pair:x,depth=99999999999999999999999", "depth", &v), -EINVAL);

	CHECK_EQ(netbe_spec_parse(&s, "tap:t,vnet_hdr=maybe"), 0);
	CHECK_EQ(netbe_spec_bool(&s, "vnet_hdr", true, &b), -EINVAL);
	CHECK_STR_CONTAINS(netbe_last_error(), "'vnet_hdr'");
	CHECK_STR_CONTAINS(netbe_last_error(), "on or off");
	netbe_spec_free(&s);
	CHECK_EQ(netbe_spec_parse(&s, "tap:t,vnet_hdr=off"), 0);
	CHECK_EQ(netbe_spec_bool(&s, "vnet_hdr", true, &b), 0);
	CHECK(!b);
	netbe_spec_free(&s);
}

/* claims() - whether backend @b answers to @name (its name or an alias). */
static bool claims(const struct netbe_backend *b, const char *name)
{
	const char *const *a;

	if (!strcmp(b->name, name))
		return true;
	for (a = b->aliases; a && *a; a++)
		if (!strcmp(*a, name))
			return true;
	return false;
}

/* claims_alias_of() - whether @b answers to one of @other's aliases. */
static bool claims_alias_of(const struct netbe_backend *b,
			    const struct netbe_backend *other)
{
	const char *const *a;

	for (a = other->aliases; a && *a; a++)
		if (claims(b, *a))
			return true;
	return false;
}

static void registry_sanity(void)
{
	struct netbe_backend_info bi;
	unsigned i, j;

	CHECK(netbe_backend_count() >= 3);
	CHECK_EQ(netbe_backend_info(netbe_backend_count(), &bi), -ENOENT);
	CHECK_EQ(netbe_backend_info(0, NULL), -EINVAL);
	for (i = 0; i < netbe_nbackends; i++) {
		const struct netbe_backend *b = netbe_backends[i];
		const struct netbe_key *k;

		CHECK(b->name && *b->name && b->help && *b->help);
		CHECK(b->open && b->close && b->send && b->recv && b->keys);
		CHECK(netbe_backend_find(b->name) == b);
		for (k = b->keys; k->name; k++)
			CHECK(k->help && *k->help);
		/* no name or alias is claimed twice, by any backend */
		for (j = 0; j < netbe_nbackends; j++)
			if (j != i)
				CHECK(!claims(netbe_backends[j], b->name) &&
				      !claims_alias_of(netbe_backends[j], b));
	}
	CHECK(netbe_backend_find("vmnet") == netbe_backend_find("tap"));
	CHECK(netbe_backend_find("ta") == NULL);
	CHECK(netbe_backend_find(NULL) == NULL);
}

int main(void)
{
	netbe_set_log(NULL, NULL, NETBE_LOG_ERR);
	RUN(good_specs);
	RUN(bhyve_forms);
	RUN(unknown_type_lists_known);
	RUN(unknown_key_lists_accepted);
	RUN(malformed_keys);
	RUN(name_rules);
	RUN(typed_values);
	RUN(registry_sanity);
	return harness_done();
}
