/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json.c - the control socket's JSON reader and writer (json.h).
 *
 * Theory of operation
 *
 * Reading is recursive descent over a (pointer, end) cursor, one function
 * per grammar rule of RFC 8259, the depth counted so a hostile request
 * cannot exhaust the stack. Values live in fixed-size chunks chained off
 * the document, so a pointer to one stays valid while more are added.
 * Decoded strings go to one buffer as long as the text: a string decodes
 * to fewer bytes than it takes in the text, quotes included, so the buffer
 * never overflows whatever the input. Strings are checked as UTF-8
 * (shortest form, no surrogates, at most U+10FFFF) and \u escapes,
 * surrogate pairs included, are encoded back to UTF-8; NUL is refused in
 * any form since the callers use C strings. Numbers are matched against
 * the grammar first and only then converted with strtod(), from a bounded
 * copy.
 *
 * Writing appends to a buffer that doubles as needed. One bit per level
 * records whether the level has an item, which is all the comma placement
 * needs; a failed allocation or a too deep nesting marks the writer
 * failed, and jw_text() then returns NULL instead of a broken text.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define CHUNK_VALUES 64
#define NUM_MAX 64

struct json_chunk {
	struct json_chunk *next;
	unsigned used;
	struct json_value v[CHUNK_VALUES];
};

/* The reader's state. */
struct rd {
	const char *start, *p, *end;
	struct json_doc *doc;
	char *why;
	size_t whylen;
	int err;
};

/** rd_fail() - record the first error, at the cursor. Return: -EINVAL. */
static int rd_fail(struct rd *r, const char *what)
{
	if (!r->err) {
		snprintf(r->why, r->whylen, "at byte %zu: %s", (size_t)(r->p - r->start), what);
		r->err = -EINVAL;
	}
	return r->err;
}

/** rd_oom() - record running out of memory. Return: -ENOMEM. */
static int rd_oom(struct rd *r)
{
	snprintf(r->why, r->whylen, "out of memory");
	r->err = -ENOMEM;
	return r->err;
}

/** skip_ws() - move past JSON whitespace. */
static void skip_ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' ||
				 *r->p == '\r'))
		r->p++;
}

/** new_value() - Return: a zeroed value of type @t, or NULL (out of
 * memory, recorded). */
static struct json_value *new_value(struct rd *r, enum json_type t)
{
	struct json_chunk *c = r->doc->chunks;

	if (!c || c->used == CHUNK_VALUES) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			rd_oom(r);
			return NULL;
		}
		c->next = r->doc->chunks;
		r->doc->chunks = c;
	}
	c->v[c->used].type = t;
	return &c->v[c->used++];
}

/** literal() - match @word at the cursor. Return: 0 or -EINVAL. */
static int literal(struct rd *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n))
		return rd_fail(r, "invalid literal (expected true, false or null)");
	r->p += n;
	return 0;
}

/** digits() - move past one or more digits. Return: 0 or -EINVAL. */
static int digits(struct rd *r)
{
	const char *s = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > s ? 0 : rd_fail(r, "expected a digit");
}

/** number() - a number by the grammar into @v. Return: 0 or -EINVAL. */
static int number(struct rd *r, struct json_value *v)
{
	const char *s = r->p;
	char buf[NUM_MAX + 1];

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (digits(r))
		return r->err;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (digits(r))
			return r->err;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (digits(r))
			return r->err;
	}
	if (r->p - s > NUM_MAX)
		return rd_fail(r, "number longer than 64 characters");
	memcpy(buf, s, (size_t)(r->p - s));
	buf[r->p - s] = '\0';
	v->num = strtod(buf, NULL);
	if (!isfinite(v->num))
		return rd_fail(r, "number out of range");
	return 0;
}

/** put_utf8() - encode code point @c at @out. Return: bytes written. */
static size_t put_utf8(char *out, unsigned c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/** hex4() - four hex digits at the cursor. Return: their value, or -1. */
static long hex4(struct rd *r)
{
	long v = 0;
	int i;

	if (r->end - r->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char ch = *r->p++;

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v |= ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v |= ch - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/** unicode_escape() - the code point of "\uXXXX" (the cursor past "\u"),
 * a surrogate pair taken whole. Return: it, or -1 after recording why. */
static long unicode_escape(struct rd *r)
{
	long hi = hex4(r), lo;

	if (hi < 0)
		return rd_fail(r, "bad \\u escape"), -1;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return rd_fail(r, "lone low surrogate"), -1;
	if (hi < 0xd800 || hi > 0xdbff)
		return hi ? hi : (rd_fail(r, "NUL (\\u0000) in a string"), -1);
	if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
		return rd_fail(r, "high surrogate without its low half"), -1;
	r->p += 2;
	lo = hex4(r);
	if (lo < 0xdc00 || lo > 0xdfff)
		return rd_fail(r, "high surrogate without its low half"), -1;
	return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
}

/** utf8_len() - length of the valid UTF-8 sequence at @s (lead byte >=
 * 0x80, @avail bytes there). Return: 2..4, or 0 when it is not valid
 * UTF-8. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	size_t n, i;
	unsigned c;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

/** escape() - one escape (the cursor past the backslash) decoded to @out.
 * Return: bytes written, or 0 after recording why. */
static size_t escape(struct rd *r, char *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	long c;

	if (r->p == r->end)
		return rd_fail(r, "unterminated string"), 0;
	if (*r->p == 'u') {
		r->p++;
		c = unicode_escape(r);
		return c < 0 ? 0 : put_utf8(out, (unsigned)c);
	}
	e = memchr(from, *r->p, sizeof(from) - 1);
	if (!e)
		return rd_fail(r, "bad escape"), 0;
	r->p++;
	*out = to[e - from];
	return 1;
}

/** string() - a string (the cursor on its quote), decoded into the
 * document's buffer. Return: the decoded string, or NULL (recorded). */
static const char *string(struct rd *r, size_t *lenp)
{
	char *out = r->doc->strings + r->doc->used, *o = out;
	size_t n;

	r->p++;
	while (r->p < r->end && *r->p != '"') {
		unsigned char ch = (unsigned char)*r->p;

		if (ch < 0x20)
			return rd_fail(r, "control character in a string"), NULL;
		if (ch == '\\') {
			r->p++;
			n = escape(r, o);
			if (!n)
				return NULL;
			o += n;
			continue;
		}
		n = ch < 0x80 ? 1 : utf8_len((const unsigned char *)r->p,
					     (size_t)(r->end - r->p));
		if (!n)
			return rd_fail(r, "invalid UTF-8 in a string"), NULL;
		memcpy(o, r->p, n);
		o += n;
		r->p += n;
	}
	if (r->p == r->end)
		return rd_fail(r, "unterminated string"), NULL;
	r->p++;
	*o = '\0';
	*lenp = (size_t)(o - out);
	r->doc->used += *lenp + 1;
	return out;
}

static struct json_value *value(struct rd *r, unsigned depth);

/** append() - chain @v after @last under @parent. */
static void append(struct json_value *parent, struct json_value **last,
		   struct json_value *v)
{
	if (*last)
		(*last)->next = v;
	else
		parent->child = v;
	*last = v;
	parent->count++;
}

/** array() - an array (the cursor on '['). Return: 0 or a negative errno. */
static int array(struct rd *r, struct json_value *a, unsigned depth)
{
	struct json_value *last = NULL, *v;

	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return 0;
	}
	for (;;) {
		v = value(r, depth + 1);
		if (!v)
			return r->err;
		append(a, &last, v);
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return 0;
		}
		return rd_fail(r, "expected ',' or ']' in an array");
	}
}

/** member() - one "key": value of an object. Return: it, or NULL. */
static struct json_value *member(struct rd *r, unsigned depth)
{
	struct json_value *v;
	const char *key;
	size_t len;

	skip_ws(r);
	if (r->p == r->end || *r->p != '"')
		return rd_fail(r, "expected a string key in an object"), NULL;
	key = string(r, &len);
	if (!key)
		return NULL;
	skip_ws(r);
	if (r->p == r->end || *r->p != ':')
		return rd_fail(r, "expected ':' after a key"), NULL;
	r->p++;
	v = value(r, depth + 1);
	if (v)
		v->key = key;
	return v;
}

/** object() - an object (the cursor on '{'). Return: 0 or a negative
 * errno. */
static int object(struct rd *r, struct json_value *o, unsigned depth)
{
	struct json_value *last = NULL, *v;

	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return 0;
	}
	for (;;) {
		v = member(r, depth);
		if (!v)
			return r->err;
		append(o, &last, v);
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return 0;
		}
		return rd_fail(r, "expected ',' or '}' in an object");
	}
}

/** value() - any value at the cursor (whitespace first). Return: it, or
 * NULL with the error recorded. */
static struct json_value *value(struct rd *r, unsigned depth)
{
	struct json_value *v;
	int ret;

	skip_ws(r);
	if (depth > JSON_DEPTH_MAX)
		return rd_fail(r, "nested deeper than 32 levels"), NULL;
	if (r->p == r->end)
		return rd_fail(r, "unexpected end of text"), NULL;
	switch (*r->p) {
	case '{':
		v = new_value(r, JSON_OBJECT);
		ret = v ? object(r, v, depth) : r->err;
		break;
	case '[':
		v = new_value(r, JSON_ARRAY);
		ret = v ? array(r, v, depth) : r->err;
		break;
	case '"':
		v = new_value(r, JSON_STRING);
		ret = v ? ((v->str = string(r, &v->len)) ? 0 : r->err) : r->err;
		break;
	case 't':
		v = new_value(r, JSON_TRUE);
		ret = v ? literal(r, "true") : r->err;
		break;
	case 'f':
		v = new_value(r, JSON_FALSE);
		ret = v ? literal(r, "false") : r->err;
		break;
	case 'n':
		v = new_value(r, JSON_NULL);
		ret = v ? literal(r, "null") : r->err;
		break;
	default:
		if (*r->p != '-' && (*r->p < '0' || *r->p > '9'))
			return rd_fail(r, "expected a value"), NULL;
		v = new_value(r, JSON_NUMBER);
		ret = v ? number(r, v) : r->err;
		break;
	}
	return ret ? NULL : v;
}

int json_parse(struct json_doc *doc, const char *text, size_t len, char *why,
	       size_t whylen)
{
	struct rd r = { .start = text, .p = text, .end = text + len, .doc = doc,
			.why = why, .whylen = whylen };

	memset(doc, 0, sizeof(*doc));
	if (whylen)
		why[0] = '\0';
	doc->strings = malloc(len + 1);
	if (!doc->strings)
		return rd_oom(&r);
	doc->root = value(&r, 0);
	if (doc->root) {
		skip_ws(&r);
		if (r.p != r.end)
			rd_fail(&r, "text after the value");
	}
	if (r.err)
		doc->root = NULL;
	return r.err;
}

void json_free(struct json_doc *doc)
{
	while (doc->chunks) {
		struct json_chunk *c = doc->chunks;

		doc->chunks = c->next;
		free(c);
	}
	free(doc->strings);
	doc->strings = NULL;
	doc->root = NULL;
}

const struct json_value *json_member(const struct json_value *obj, const char *key)
{
	const struct json_value *v;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (v = obj->child; v; v = v->next)
		if (!strcmp(v->key, key))
			return v;
	return NULL;
}

const char *json_type_name(enum json_type t)
{
	static const char *const names[] = {
		[JSON_NULL] = "null", [JSON_FALSE] = "boolean", [JSON_TRUE] = "boolean",
		[JSON_NUMBER] = "number", [JSON_STRING] = "string",
		[JSON_ARRAY] = "array", [JSON_OBJECT] = "object",
	};

	return (unsigned)t <= JSON_OBJECT ? names[t] : "unknown";
}

int json_uint(const struct json_value *v, uint64_t max, uint64_t *out)
{
	if (!v || v->type != JSON_NUMBER || v->num < 0 || v->num > (double)max ||
	    v->num != floor(v->num))
		return -EINVAL;
	*out = (uint64_t)v->num;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */
/* ------------------------------------------------------------------------ */

void jw_init(struct json_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void jw_free(struct json_writer *w)
{
	free(w->buf);
	jw_init(w);
}

/** jw_put() - append @n bytes of @s, growing the buffer. */
static void jw_put(struct json_writer *w, const char *s, size_t n)
{
	char *b;
	size_t cap = w->cap ? w->cap : 256;

	if (w->failed)
		return;
	while (cap - w->len <= n)
		cap *= 2;
	if (cap != w->cap) {
		b = realloc(w->buf, cap);
		if (!b) {
			w->failed = true;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/** jw_item() - start an item at the current level: a separator unless
 * it is the first or follows its key. */
static void jw_item(struct json_writer *w)
{
	uint64_t bit = 1ULL << w->depth;

	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->has_items & bit)
		jw_put(w, ", ", 2);
	w->has_items |= bit;
}

/** jw_open() - open a container with @ch. */
static void jw_open(struct json_writer *w, char ch)
{
	jw_item(w);
	if (w->depth >= JSON_DEPTH_MAX) {
		w->failed = true;
		return;
	}
	jw_put(w, &ch, 1);
	w->depth++;
	w->has_items &= ~(1ULL << w->depth);
}

/** jw_close() - close a container with @ch. */
static void jw_close(struct json_writer *w, char ch)
{
	if (!w->depth) {
		w->failed = true;
		return;
	}
	w->depth--;
	jw_put(w, &ch, 1);
}

void jw_begin_object(struct json_writer *w)
{
	jw_open(w, '{');
}

void jw_end_object(struct json_writer *w)
{
	jw_close(w, '}');
}

void jw_begin_array(struct json_writer *w)
{
	jw_open(w, '[');
}

void jw_end_array(struct json_writer *w)
{
	jw_close(w, ']');
}

/** jw_quoted() - @s as a JSON string literal; a byte that does not start
 * valid UTF-8 (a string cut inside a character) becomes U+FFFD, so the
 * text stays valid whatever the caller passes. */
static void jw_quoted(struct json_writer *w, const char *s)
{
	char esc[8];
	size_t n;

	jw_put(w, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 0x80) {
			n = utf8_len((const unsigned char *)s, strnlen(s, 4));
			if (n)
				jw_put(w, s, n);
			else
				jw_put(w, "\\ufffd", 6);
			s += n ? n - 1 : 0;
			continue;
		}

		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			jw_put(w, esc, 2);
		} else if (ch < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
			jw_put(w, esc, 6);
		} else {
			jw_put(w, s, 1);
		}
	}
	jw_put(w, "\"", 1);
}

void jw_key(struct json_writer *w, const char *key)
{
	jw_item(w);
	jw_quoted(w, key);
	jw_put(w, ": ", 2);
	w->after_key = true;
}

void jw_string(struct json_writer *w, const char *s)
{
	jw_item(w);
	jw_quoted(w, s);
}

void jw_uint(struct json_writer *w, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);

	jw_item(w);
	jw_put(w, buf, (size_t)n);
}

void jw_bool(struct json_writer *w, bool v)
{
	jw_item(w);
	jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_raw(struct json_writer *w, const char *s)
{
	jw_put(w, s, strlen(s));
}

const char *jw_text(const struct json_writer *w)
{
	if (w->failed || w->depth)
		return NULL;
	return w->buf ? w->buf : "";
}
