/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test-json.c - the control socket's JSON reader and writer (json.c):
 * every value type, escapes and UTF-8 both ways, and hostile texts
 * (truncations, bad escapes, lone surrogates, overlong UTF-8, NUL, deep
 * nesting, trailing garbage), each refused with a reason and no leak.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "json.h"

/* Return: 0 when @text parses (into @doc), else the error (why printed
 * as a TAP comment: bytes outside printable ASCII as \xNN, so a hostile
 * input's newline cannot end the comment). */
static int parse(struct json_doc *doc, const char *text)
{
	char why[128];
	int ret = json_parse(doc, text, strlen(text), why, sizeof(why));
	size_t i;

	if (!ret)
		return 0;
	printf("# '");
	for (i = 0; text[i] && i < 40; i++)
		if (text[i] >= 0x20 && text[i] < 0x7f)
			putchar(text[i]);
		else
			printf("\\x%02x", (unsigned char)text[i]);
	printf("': %s\n", why);
	return ret;
}

static void test_values(void)
{
	struct json_doc d;
	const struct json_value *v;
	uint64_t u;

	CHECK_EQ(parse(&d, " {\"a\": [1, -2.5e1, true, false, null, \"x\"], \"b\": {}} "), 0);
	CHECK(d.root && d.root->type == JSON_OBJECT && d.root->count == 2);
	v = json_member(d.root, "a");
	CHECK(v && v->type == JSON_ARRAY && v->count == 6);
	if (v && v->count == 6) {
		CHECK(json_uint(v->child, 10, &u) == 0 && u == 1);
		CHECK(v->child->next->num == -25.0);
		CHECK(json_uint(v->child->next, 100, &u) == -EINVAL);
		CHECK_EQ(v->child->next->next->type, JSON_TRUE);
		CHECK_EQ(v->child->next->next->next->type, JSON_FALSE);
		CHECK_EQ(v->child->next->next->next->next->type, JSON_NULL);
		CHECK(!strcmp(v->child->next->next->next->next->next->str, "x"));
	}
	v = json_member(d.root, "b");
	CHECK(v && v->type == JSON_OBJECT && v->count == 0 && !v->child);
	CHECK(json_member(d.root, "c") == NULL);
	CHECK(json_member(v, "a") == NULL);
	json_free(&d);
	json_free(&d);
	CHECK_EQ(parse(&d, "[]"), 0);
	CHECK(d.root && d.root->type == JSON_ARRAY && d.root->count == 0);
	json_free(&d);
	CHECK_EQ(parse(&d, "0"), 0);
	CHECK(json_uint(d.root, 0, &u) == 0 && u == 0);
	json_free(&d);
	CHECK_EQ(parse(&d, "65536"), 0);
	CHECK(json_uint(d.root, 65535, &u) == -EINVAL);
	CHECK(json_uint(NULL, 65535, &u) == -EINVAL);
	json_free(&d);
	CHECK(!strcmp(json_type_name(JSON_STRING), "string"));
}

static void test_strings(void)
{
	struct json_doc d;

	CHECK_EQ(parse(&d, "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\xc3\xa9\""), 0);
	CHECK(d.root && !strcmp(d.root->str, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xa9"));
	CHECK(d.root && d.root->len == strlen(d.root->str));
	json_free(&d);
}

static void test_hostile(void)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[1,]", "[1 2]", "{\"a\"}", "{\"a\":}", "{a:1}",
		"{\"a\":1,}", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u0000\"",
		"\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\nb\"",
		"\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf5\x80\x80\x80\"", "\"\xe2\x82\"",
		"\"\x80\"", "01", "-", "1.", "1e", ".5", "+1", "1e999", "tru", "nul",
		"falsey", "{} {}", "[1] x", "NaN", "Infinity",
		"12345678901234567890123456789012345678901234567890123456789012345",
	};
	struct json_doc d;
	char deep[200];
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(parse(&d, bad[i]), -EINVAL);
		CHECK(d.root == NULL);
		json_free(&d);
	}
	memset(deep, '[', 33);
	memset(deep + 33, ']', 33);
	deep[66] = '\0';
	CHECK_EQ(parse(&d, deep), 0);
	json_free(&d);
	memset(deep, '[', 34);
	memset(deep + 34, ']', 34);
	deep[68] = '\0';
	CHECK_EQ(parse(&d, deep), -EINVAL);
	json_free(&d);
	/* a NUL byte inside the text is not the end of it */
	CHECK_EQ(json_parse(&d, "\"a\0b\"", 5, deep, sizeof(deep)), -EINVAL);
	CHECK_STR_CONTAINS(deep, "at byte 2");
	json_free(&d);
}

static void test_writer(void)
{
	struct json_writer w;
	struct json_doc d;

	jw_init(&w);
	jw_begin_object(&w);
	jw_key(&w, "a");
	jw_begin_array(&w);
	jw_uint(&w, 18446744073709551615ULL);
	jw_bool(&w, true);
	jw_string(&w, "q\"\\\n\x01\xc3\xa9");
	jw_begin_object(&w);
	jw_end_object(&w);
	jw_end_array(&w);
	jw_key(&w, "b");
	jw_bool(&w, false);
	jw_end_object(&w);
	CHECK(jw_text(&w) && !strcmp(jw_text(&w),
		"{\"a\": [18446744073709551615, true, \"q\\\"\\\\\\u000a\\u0001\xc3\xa9\", {}], \"b\": false}"));
	CHECK_EQ(parse(&d, jw_text(&w)), 0);
	json_free(&d);
	jw_free(&w);
	jw_begin_object(&w);
	CHECK(jw_text(&w) == NULL);  /* unclosed */
	jw_free(&w);
	jw_end_array(&w);
	CHECK(jw_text(&w) == NULL);  /* closed what was not open */
	jw_free(&w);
	CHECK(jw_text(&w) && !strcmp(jw_text(&w), ""));
	/* a string cut inside a character still makes valid JSON */
	jw_string(&w, "a\xc3\xa9\xe2\x82|\xff\xc3");
	CHECK(jw_text(&w) && !strcmp(jw_text(&w), "\"a\xc3\xa9\\ufffd\\ufffd|\\ufffd\\ufffd\""));
	CHECK_EQ(parse(&d, jw_text(&w)), 0);
	json_free(&d);
	jw_free(&w);
}

int main(void)
{
	RUN(test_values);
	RUN(test_strings);
	RUN(test_hostile);
	RUN(test_writer);
	return harness_done();
}
