/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json.h - the small JSON reader and writer of the control socket.
 *
 * The reader parses one request (RFC 8259, a whole text of known length)
 * into a tree it owns; it never trusts its input: nesting is bounded
 * (JSON_DEPTH_MAX), strings must be valid UTF-8 without NUL, numbers are
 * checked against the grammar before conversion, and every failure says
 * where and what. The writer appends to a growing buffer and places the
 * commas itself; its output is always valid JSON when every begin has its
 * end.
 */
#ifndef NETBE_JSON_H
#define NETBE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX 32

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

/* A parsed value. Members of arrays and objects are chained by next. */
struct json_value {
	enum json_type type;
	const char *key;            /* name, for a member of an object */
	const char *str;            /* JSON_STRING: decoded, NUL-terminated */
	size_t len;                 /* JSON_STRING: its length in bytes */
	double num;                 /* JSON_NUMBER */
	unsigned count;             /* JSON_ARRAY/OBJECT: number of members */
	struct json_value *child;   /* JSON_ARRAY/OBJECT: first member */
	struct json_value *next;
};

struct json_chunk;

/* A parsed text: the tree and the memory behind it. */
struct json_doc {
	struct json_value *root;
	struct json_chunk *chunks;  /* value storage */
	char *strings;              /* decoded strings and keys */
	size_t used;
};

/**
 * json_parse() - parse @len bytes at @text as one JSON text into @doc
 * @why: gets a one-line reason on failure ("at byte N: ...")
 * Return: 0 with doc->root set, -EINVAL with @why filled, or -ENOMEM.
 * json_free() must be called either way.
 */
int json_parse(struct json_doc *doc, const char *text, size_t len, char *why,
	       size_t whylen);

/** json_free() - release what json_parse() allocated; safe twice. */
void json_free(struct json_doc *doc);

/** json_member() - Return: member @key of object @obj, NULL when @obj is
 * NULL, not an object, or has no such member (the first one if repeated). */
const struct json_value *json_member(const struct json_value *obj, const char *key);

/** json_type_name() - Return: "null", "boolean", "number", ... for @t. */
const char *json_type_name(enum json_type t);

/**
 * json_uint() - the integer in number @v, from 0 to @max
 * Return: 0 with *@out set, or -EINVAL (not a number, not integral, out of
 * range).
 */
int json_uint(const struct json_value *v, uint64_t max, uint64_t *out);

/* A JSON text being written. */
struct json_writer {
	char *buf;
	size_t len, cap;
	bool failed;                /* out of memory or too deep: output is void */
	unsigned depth;
	uint64_t has_items;         /* bit d: level d has an item already */
	bool after_key;             /* the next value belongs to a key */
};

/** jw_init() - start an empty text. */
void jw_init(struct json_writer *w);
/** jw_free() - release the buffer. */
void jw_free(struct json_writer *w);
/** jw_begin_object() / jw_end_object() / jw_begin_array() / jw_end_array()
 * - open and close containers (at most JSON_DEPTH_MAX deep). */
void jw_begin_object(struct json_writer *w);
void jw_end_object(struct json_writer *w);
void jw_begin_array(struct json_writer *w);
void jw_end_array(struct json_writer *w);
/** jw_key() - the name of the next member of the current object. */
void jw_key(struct json_writer *w, const char *key);
/** jw_string() - a string value, escaped as JSON needs; valid UTF-8 is
 * copied, any other byte >= 0x80 written as U+FFFD. */
void jw_string(struct json_writer *w, const char *s);
/** jw_uint() - an unsigned integer value. */
void jw_uint(struct json_writer *w, uint64_t v);
/** jw_bool() - true or false. */
void jw_bool(struct json_writer *w, bool v);
/** jw_raw() - append @s as it is, outside the structure (a newline). */
void jw_raw(struct json_writer *w, const char *s);
/** jw_text() - Return: the NUL-terminated text, or NULL when writing
 * failed. */
const char *jw_text(const struct json_writer *w);

#endif /* NETBE_JSON_H */
