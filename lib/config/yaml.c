/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The config file: libyaml builds the document tree, this file walks it and
 * feeds every scalar to hd_config_set() with "file:line" as its source, so
 * file values get exactly the checks and messages the flags get.
 *
 * A file is applied to a copy of the config and committed only when all of
 * it is good: a rejected file changes nothing.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "hd_config.h"
#include "config_private.h"

/* Far beyond any real config; bounds what a mistaken path can make us read. */
#define CONFIG_FILE_MAX (4u << 20)

/*
 * Keys nest one level today ("cache.entries"); the bound also stops a
 * walk through an alias that refers to one of its own ancestors.
 */
#define NESTING_MAX 4

struct loader {
	struct hd_config *c;
	yaml_document_t *doc;
	const char *name;
	char *err;
	size_t errlen;
	size_t seen_line[CFG_OPTIONS_MAX];	/* 1-based line of each setting, 0 = unset */
};

static size_t
line_of(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

/* A scalar with "\0" escaped into it would be silently cut by C strings. */
static int
check_scalar(struct loader *ld, const yaml_node_t *n)
{
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		cfg_err(ld->err, ld->errlen, "%s:%zu: value contains a NUL character",
			ld->name, line_of(n));
		return -EINVAL;
	}
	return 0;
}

static int
unknown(struct loader *ld, const yaml_node_t *key_node, const char *key)
{
	char where[512];

	snprintf(where, sizeof(where), "%s:%zu", ld->name, line_of(key_node));
	cfg_unknown_key(ld->err, ld->errlen, where, key);
	return -ENOENT;
}

/*
 * The same setting given twice, in either spelling (nested or dotted), is
 * almost certainly a mistake: say which line won rather than pick one.
 */
static int
mark_seen(struct loader *ld, int idx, const yaml_node_t *key_node, const char *key)
{
	if (ld->seen_line[idx] != 0) {
		cfg_err(ld->err, ld->errlen, "%s:%zu: duplicate key '%s' (first given at line %zu)",
			ld->name, line_of(key_node), key, ld->seen_line[idx]);
		return -EINVAL;
	}
	ld->seen_line[idx] = line_of(key_node);
	return 0;
}

static int
apply_scalar(struct loader *ld, const char *key, const yaml_node_t *val)
{
	char where[512];
	int rc;

	rc = check_scalar(ld, val);
	if (rc < 0)
		return rc;
	snprintf(where, sizeof(where), "%s:%zu", ld->name, line_of(val));
	return hd_config_set(ld->c, key, (const char *)val->data.scalar.value, where,
			     ld->err, ld->errlen);
}

/* Fields of one mapping item; room for any real item, and more gets a message. */
#define ITEM_FIELDS_MAX	16
#define ITEM_VALUE_MAX	4096

struct item {
	const char *fields[ITEM_FIELDS_MAX];
	const char *values[ITEM_FIELDS_MAX];
	const char *fwhere[ITEM_FIELDS_MAX];
	char where[ITEM_FIELDS_MAX][64];
	char joined[ITEM_FIELDS_MAX][ITEM_VALUE_MAX];
	unsigned int n;
};

/* A field whose value is a YAML list (clients: [a, b]) arrives as "a,b". */
static int
item_join(struct loader *ld, const char *key, const char *field, const yaml_node_t *seq,
	  char *out)
{
	size_t off = 0;

	out[0] = '\0';
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		const yaml_node_t *v = yaml_document_get_node(ld->doc, *it);
		size_t len;

		if (v == NULL || v->type != YAML_SCALAR_NODE || check_scalar(ld, v) < 0) {
			cfg_err(ld->err, ld->errlen, "%s:%zu: %s.%s: expected a list of values",
				ld->name, v != NULL ? line_of(v) : line_of(seq), key, field);
			return -EINVAL;
		}
		len = v->data.scalar.length;
		if (off + len + 2 > ITEM_VALUE_MAX) {
			cfg_err(ld->err, ld->errlen, "%s:%zu: %s.%s: the list is too long",
				ld->name, line_of(v), key, field);
			return -EINVAL;
		}
		if (off > 0)
			out[off++] = ',';
		memcpy(out + off, v->data.scalar.value, len);
		off += len;
		out[off] = '\0';
	}
	return 0;
}

/* One item of blocklist/allowlist/group written as a mapping. */
static int
apply_item(struct loader *ld, const char *key, const yaml_node_t *map)
{
	char where[512];
	struct item *it;
	int rc = 0;

	it = calloc(1, sizeof(*it));
	if (it == NULL) {
		cfg_err(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -ENOMEM;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top && rc == 0; p++) {
		const yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(ld->doc, p->value);
		unsigned int i = it->n;

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE ||
		    check_scalar(ld, k) < 0) {
			cfg_err(ld->err, ld->errlen, "%s:%zu: %s: a field must be a plain name",
				ld->name, k != NULL ? line_of(k) : line_of(map), key);
			rc = -EINVAL;
			break;
		}
		if (i == ITEM_FIELDS_MAX) {
			cfg_err(ld->err, ld->errlen, "%s:%zu: %s: too many fields", ld->name,
				line_of(k), key);
			rc = -EINVAL;
			break;
		}
		it->fields[i] = (const char *)k->data.scalar.value;
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(it->fields[j], it->fields[i]) == 0) {
				cfg_err(ld->err, ld->errlen, "%s:%zu: %s: field '%s' given twice",
					ld->name, line_of(k), key, it->fields[i]);
				rc = -EINVAL;
			}
		snprintf(it->where[i], sizeof(it->where[i]), "%s:%zu", ld->name, line_of(v));
		it->fwhere[i] = it->where[i];
		if (rc == 0 && v->type == YAML_SCALAR_NODE) {
			rc = check_scalar(ld, v);
			it->values[i] = (const char *)v->data.scalar.value;
		} else if (rc == 0 && v->type == YAML_SEQUENCE_NODE) {
			rc = item_join(ld, key, it->fields[i], v, it->joined[i]);
			it->values[i] = it->joined[i];
		} else if (rc == 0) {
			cfg_err(ld->err, ld->errlen, "%s:%zu: %s.%s: expected a value or a list of "
				"values, found a mapping", ld->name, line_of(v), key, it->fields[i]);
			rc = -EINVAL;
		}
		it->n++;
	}
	if (rc == 0) {
		snprintf(where, sizeof(where), "%s:%zu", ld->name, line_of(map));
		rc = hd_config_set_item(ld->c, key, it->fields, it->values, it->fwhere, it->n,
					where, ld->err, ld->errlen);
	}
	free(it);
	return rc;
}

static int
apply_sequence(struct loader *ld, const char *key, const yaml_node_t *seq)
{
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		const yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
		int rc;

		if (item != NULL && item->type == YAML_MAPPING_NODE &&
		    hd_config_takes_items(key)) {
			rc = apply_item(ld, key, item);
			if (rc < 0)
				return rc;
			continue;
		}
		if (item == NULL || item->type != YAML_SCALAR_NODE) {
			cfg_err(ld->err, ld->errlen, "%s:%zu: %s: expected a list of values, "
				"found a nested list or mapping", ld->name,
				item != NULL ? line_of(item) : line_of(seq), key);
			return -EINVAL;
		}
		rc = apply_scalar(ld, key, item);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int walk_mapping(struct loader *ld, const yaml_node_t *map, const char *prefix,
			int depth);

static int
apply_pair(struct loader *ld, const yaml_node_t *key_node, const char *key,
	   const yaml_node_t *val, int depth)
{
	int idx = cfg_option_index(key);
	int rc;

	switch (val->type) {
	case YAML_MAPPING_NODE:
		/* One item written without the list around it. */
		if (idx >= 0 && hd_config_takes_items(key)) {
			rc = mark_seen(ld, idx, key_node, key);
			return rc < 0 ? rc : apply_item(ld, key, val);
		}
		if (idx >= 0) {
			cfg_err(ld->err, ld->errlen, "%s:%zu: %s: expected a value, found a "
				"mapping", ld->name, line_of(val), key);
			return -EINVAL;
		}
		/* Walk into unknown groups too: "cach: {entries: 1}" gets a suggestion. */
		if (depth >= NESTING_MAX ||
		    (val->data.mapping.pairs.start == val->data.mapping.pairs.top &&
		     !cfg_is_prefix(key)))
			return unknown(ld, key_node, key);
		return walk_mapping(ld, val, key, depth + 1);
	case YAML_SEQUENCE_NODE:
		if (idx < 0)
			return unknown(ld, key_node, key);
		if (!hd_config_options()[idx].is_list) {
			cfg_err(ld->err, ld->errlen, "%s:%zu: %s: expected one value, found a "
				"list", ld->name, line_of(val), key);
			return -EINVAL;
		}
		rc = mark_seen(ld, idx, key_node, key);
		return rc < 0 ? rc : apply_sequence(ld, key, val);
	case YAML_SCALAR_NODE:
		if (idx < 0)
			return unknown(ld, key_node, key);
		rc = mark_seen(ld, idx, key_node, key);
		return rc < 0 ? rc : apply_scalar(ld, key, val);
	default:
		cfg_err(ld->err, ld->errlen, "%s:%zu: %s: unexpected YAML node",
			ld->name, line_of(val), key);
		return -EINVAL;
	}
}

/* Same key twice in one mapping; libyaml keeps both and leaves it to us. */
static int
check_literal_duplicate(struct loader *ld, const yaml_node_t *map, yaml_node_pair_t *pair,
			const char *key)
{
	const yaml_node_t *k = yaml_document_get_node(ld->doc, pair->key);

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
		const yaml_node_t *prev = yaml_document_get_node(ld->doc, p->key);

		if (prev != NULL && prev->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)prev->data.scalar.value,
			   (const char *)k->data.scalar.value) == 0) {
			cfg_err(ld->err, ld->errlen, "%s:%zu: duplicate key '%s' (first given "
				"at line %zu)", ld->name, line_of(k), key, line_of(prev));
			return -EINVAL;
		}
	}
	return 0;
}

static int
walk_mapping(struct loader *ld, const yaml_node_t *map, const char *prefix, int depth)
{
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = yaml_document_get_node(ld->doc, pair->key);
		const yaml_node_t *v = yaml_document_get_node(ld->doc, pair->value);
		char key[CFG_KEY_MAX + 1];
		int n, rc;

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE) {
			cfg_err(ld->err, ld->errlen, "%s:%zu: a key must be a plain name",
				ld->name, k != NULL ? line_of(k) : line_of(map));
			return -EINVAL;
		}
		rc = check_scalar(ld, k);
		if (rc < 0)
			return rc;
		if (prefix != NULL)
			n = snprintf(key, sizeof(key), "%s.%s", prefix,
				     (const char *)k->data.scalar.value);
		else
			n = snprintf(key, sizeof(key), "%s", (const char *)k->data.scalar.value);
		/* Too long to be any setting; report it cut rather than match a prefix. */
		if (n < 0 || (size_t)n >= sizeof(key))
			return unknown(ld, k, key);
		rc = check_literal_duplicate(ld, map, pair, key);
		if (rc < 0)
			return rc;
		rc = apply_pair(ld, k, key, v, depth);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
parser_error(const yaml_parser_t *p, const char *name, char *err, size_t errlen)
{
	const char *problem = p->problem != NULL ? p->problem : "invalid YAML";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		cfg_err(err, errlen, "%s: out of memory while parsing", name);
		return -ENOMEM;
	case YAML_READER_ERROR:
		/* Encoding problems have a byte offset, not a line. */
		cfg_err(err, errlen, "%s: byte %zu: %s", name, p->problem_offset, problem);
		return -EINVAL;
	default:
		/*
		 * libyaml notices a missing ':' on the line after the culprit;
		 * the context mark is where the construct it was reading began.
		 */
		if (p->context != NULL && p->context_mark.line != p->problem_mark.line)
			cfg_err(err, errlen, "%s:%zu:%zu: %s (%s at line %zu, column %zu)",
				name, p->problem_mark.line + 1, p->problem_mark.column + 1,
				problem, p->context, p->context_mark.line + 1,
				p->context_mark.column + 1);
		else if (p->context != NULL)
			cfg_err(err, errlen, "%s:%zu:%zu: %s (%s)", name,
				p->problem_mark.line + 1, p->problem_mark.column + 1,
				problem, p->context);
		else
			cfg_err(err, errlen, "%s:%zu:%zu: %s", name,
				p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
		return -EINVAL;
	}
}

/* "---" alone, "~" or "" at the top: a file of comments counts as empty. */
static int
is_empty_root(const yaml_node_t *root)
{
	if (root == NULL)
		return 1;
	if (root->type != YAML_SCALAR_NODE || root->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return root->data.scalar.length == 0 ||
	       strcmp((const char *)root->data.scalar.value, "~") == 0 ||
	       strcmp((const char *)root->data.scalar.value, "null") == 0;
}

static int
load_document(struct loader *ld, yaml_parser_t *parser)
{
	yaml_document_t doc, extra;
	const yaml_node_t *root;
	int rc = 0;

	if (!yaml_parser_load(parser, &doc))
		return parser_error(parser, ld->name, ld->err, ld->errlen);
	ld->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (is_empty_root(root)) {
		rc = 0;
	} else if (root->type != YAML_MAPPING_NODE) {
		cfg_err(ld->err, ld->errlen, "%s:%zu: expected a mapping of settings "
			"('key: value' lines) at the top level", ld->name, line_of(root));
		rc = -EINVAL;
	} else {
		rc = walk_mapping(ld, root, NULL, 0);
	}
	yaml_document_delete(&doc);
	ld->doc = NULL;
	if (rc < 0)
		return rc;

	/* A second document would be ignored silently otherwise. */
	if (!yaml_parser_load(parser, &extra))
		return parser_error(parser, ld->name, ld->err, ld->errlen);
	root = yaml_document_get_root_node(&extra);
	if (root != NULL) {
		cfg_err(ld->err, ld->errlen, "%s:%zu: a second YAML document; the config is "
			"one document", ld->name, line_of(root));
		rc = -EINVAL;
	}
	yaml_document_delete(&extra);
	return rc;
}

static int
load_buffer(struct hd_config *c, const unsigned char *buf, size_t len, const char *name,
	    char *err, size_t errlen)
{
	struct hd_config work;
	yaml_parser_t parser;
	struct loader ld;
	int rc;

	if (c == NULL || buf == NULL) {
		cfg_err(err, errlen, "config: missing argument");
		return -EINVAL;
	}
	if (name == NULL)
		name = "<string>";
	work = *c;
	memset(&ld, 0, sizeof(ld));
	ld.c = &work;
	ld.name = name;
	ld.err = err;
	ld.errlen = errlen;
	if (!yaml_parser_initialize(&parser)) {
		cfg_err(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, buf, len);
	rc = load_document(&ld, &parser);
	yaml_parser_delete(&parser);
	if (rc == 0)
		*c = work;
	return rc;
}

int
hd_config_load_string(struct hd_config *c, const char *yaml, const char *name,
		      char *err, size_t errlen)
{
	if (yaml == NULL) {
		cfg_err(err, errlen, "config: missing argument");
		return -EINVAL;
	}
	return load_buffer(c, (const unsigned char *)yaml, strlen(yaml), name, err, errlen);
}

/*
 * Read the whole file first so that an unreadable path (a directory, a
 * permission problem) is reported with its errno, not as a YAML problem.
 */
static int
read_file(const char *path, unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc = 0;

	errno = 0;
	f = fopen(path, "rb");
	if (f == NULL) {
		rc = -errno;
		cfg_err(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			unsigned char *grown;

			if (cap >= CONFIG_FILE_MAX) {
				cfg_err(err, errlen, "%s: larger than %u bytes, not a config "
					"file", path, CONFIG_FILE_MAX);
				rc = -EFBIG;
				goto out;
			}
			cap = cap == 0 ? 4096 : cap * 2;
			grown = realloc(buf, cap);
			if (grown == NULL) {
				cfg_err(err, errlen, "%s: out of memory", path);
				rc = -ENOMEM;
				goto out;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		rc = errno != 0 ? -errno : -EIO;
		cfg_err(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
		goto out;
	}
out:
	fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int
hd_config_load_file(struct hd_config *c, const char *path, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int rc;

	if (c == NULL || path == NULL) {
		cfg_err(err, errlen, "config: missing argument");
		return -EINVAL;
	}
	rc = read_file(path, &buf, &len, err, errlen);
	if (rc < 0)
		return rc;
	/* libyaml wants a pointer even for an empty file. */
	rc = load_buffer(c, buf != NULL ? buf : (const unsigned char *)"", len, path,
			 err, errlen);
	free(buf);
	return rc;
}
