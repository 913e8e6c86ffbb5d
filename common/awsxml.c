/*
 * awsxml: XML response bodies to a jansson tree with expat (the mapping is
 * described in aws.h).  Hostile input is expected: DOCTYPE and entity
 * declarations are refused outright (so no entity is ever expanded:
 * billion laughs and external entities are impossible), depth, element
 * count, size and expat's own memory are bounded (cloudsaga_limits.h), and
 * every error is a message, never a crash.
 *
 * expat gets the body in chunks (AWSXML_CHUNK), so its buffer holds a
 * chunk and the token in progress rather than a copy of the whole body.
 *
 * Bodies can hold credentials (STS answers): expat's memory and the text
 * of the frames are wiped when freed (wipe.h), and the tree's strings are
 * jansson's, which wipes too.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "aws.h"
#include "buf.h"
#include "wipe.h"
#include "xmalloc.h"

#define AWSXML_CHUNK	(64 * 1024)

struct awsxml_frame {
	char		*name;
	json_t		*obj;		/* children by name */
	json_t		*rep;		/* names made arrays by repetition */
	json_t		*items;		/* children in order while all are
					   <item>/<member> */
	size_t		 nkids;
	struct buf	 text;
};

struct awsxml {
	XML_Parser		 parser;
	struct awsxml_frame	 stack[AWS_XML_MAX_DEPTH + 1];
	int			 depth;		/* frames in use */
	size_t			 nodes;
	char			*error;
	json_t			*root;
	char			*root_name;
};

/*
 * expat's memory.  Every block carries its size in a header, so the bytes
 * expat holds for the document being parsed are counted and bounded by
 * AWS_XML_MAX_PARSER_MEM (a start tag with a million attributes, which
 * expat holds whole before any handler runs, fails instead of taking
 * ~90 MB), and every block is wiped when freed; growth copies and wipes
 * rather than realloc(), which would leave a copy behind.  Parsing is
 * synchronous, so the count is per thread, reset by aws_xml_parse().
 */
union awsxml_hdr {
	size_t		 size;
	max_align_t	 align;
};

static _Thread_local size_t	awsxml_mem_used;
static _Thread_local int	awsxml_mem_refused;

static void *
awsxml_malloc(size_t n)
{
	union awsxml_hdr	*h;

	if (n > AWS_XML_MAX_PARSER_MEM - awsxml_mem_used) {
		awsxml_mem_refused = 1;
		return NULL;
	}
	if ((h = malloc(sizeof(*h) + n)) == NULL)
		return NULL;
	h->size = n;
	awsxml_mem_used += n;
	return h + 1;
}

static void
awsxml_free(void *p)
{
	union awsxml_hdr	*h;

	if (p == NULL)
		return;
	h = (union awsxml_hdr *)p - 1;
	awsxml_mem_used -= h->size;
	freezero(h, sizeof(*h) + h->size);
}

static void *
awsxml_realloc(void *p, size_t n)
{
	union awsxml_hdr	*h;
	void			*q;

	if (p == NULL)
		return awsxml_malloc(n);
	h = (union awsxml_hdr *)p - 1;
	if ((q = awsxml_malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, h->size < n ? h->size : n);
	awsxml_free(p);
	return q;
}

static const XML_Memory_Handling_Suite awsxml_mem = {
	awsxml_malloc, awsxml_realloc, awsxml_free,
};

static void
awsxml_fail(struct awsxml *x, const char *msg)
{
	if (x->error == NULL)
		x->error = xstrdup(msg);
	XML_StopParser(x->parser, XML_FALSE);
}

/* Namespaces are ignored: "ec2:item" -> "item". */
static const char *
awsxml_local(const char *name)
{
	const char	*c;

	if ((c = strrchr(name, ':')) != NULL && c[1] != '\0')
		return c + 1;
	return name;
}

static int
awsxml_is_item(const char *name)
{
	return strcmp(name, "item") == 0 || strcmp(name, "member") == 0;
}

static void
awsxml_frame_free(struct awsxml_frame *f)
{
	free(f->name);
	json_decref(f->obj);
	json_decref(f->rep);
	json_decref(f->items);
	buf_free(&f->text);
	memset(f, 0, sizeof(*f));
}

static void XMLCALL
awsxml_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct awsxml		*x = arg;
	struct awsxml_frame	*f;

	(void)attrs;
	if (x->error != NULL)
		return;
	if (x->depth >= AWS_XML_MAX_DEPTH) {
		awsxml_fail(x, "XML nesting is too deep");
		return;
	}
	if (++x->nodes > AWS_XML_MAX_NODES) {
		awsxml_fail(x, "XML has too many elements");
		return;
	}
	if (x->depth == 0 && x->root_name != NULL) {
		/* expat rejects a second root itself; belt and braces. */
		awsxml_fail(x, "XML has more than one root element");
		return;
	}
	if (x->depth > 0) {
		/* The parent has children: its text is not data. */
		buf_free(&x->stack[x->depth - 1].text);
	}
	f = &x->stack[x->depth++];
	memset(f, 0, sizeof(*f));
	buf_init_secure(&f->text);
	f->name = xstrdup(awsxml_local(name));
	if (x->depth == 1)
		x->root_name = xstrdup(f->name);
}

static void XMLCALL
awsxml_text(void *arg, const XML_Char *s, int len)
{
	struct awsxml		*x = arg;
	struct awsxml_frame	*f;

	if (x->error != NULL || x->depth == 0 || len <= 0)
		return;
	f = &x->stack[x->depth - 1];
	if (f->nkids > 0)
		return;		/* mixed content: ignored */
	buf_add(&f->text, s, (size_t)len);
}

/* The value of a finished element. */
static json_t *
awsxml_value(struct awsxml_frame *f)
{
	json_t		*v;
	size_t		 i;
	int		 blank = 1, newline = 0;

	if (f->nkids > 0) {
		if (f->items != NULL)
			return json_incref(f->items);
		return json_incref(f->obj);
	}
	for (i = 0; i < f->text.len; i++) {
		char c = f->text.data[i];

		if (c == '\n')
			newline = 1;
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			blank = 0;
	}
	if (blank && newline)
		return json_string("");
	v = json_stringn(buf_str(&f->text), f->text.len);
	return v;
}

static void
awsxml_add_child(struct awsxml *x, struct awsxml_frame *p, const char *name,
    json_t *v)
{
	json_t	*old, *arr;

	if (p->nkids == 0) {
		p->obj = json_object();
		p->rep = json_object();
		if (awsxml_is_item(name))
			p->items = json_array();
	}
	p->nkids++;
	if (p->items != NULL) {
		if (awsxml_is_item(name))
			json_array_append(p->items, v);
		else {
			json_decref(p->items);
			p->items = NULL;
		}
	}
	old = json_object_get(p->obj, name);
	if (old == NULL)
		json_object_set(p->obj, name, v);
	else if (json_object_get(p->rep, name) != NULL)
		json_array_append(old, v);
	else {
		arr = json_array();
		json_array_append(arr, old);
		json_array_append(arr, v);
		json_object_set_new(p->obj, name, arr);
		json_object_set_new(p->rep, name, json_true());
	}
	(void)x;
}

static void XMLCALL
awsxml_end(void *arg, const XML_Char *name)
{
	struct awsxml		*x = arg;
	struct awsxml_frame	*f;
	json_t			*v;

	(void)name;
	if (x->error != NULL || x->depth == 0)
		return;
	f = &x->stack[x->depth - 1];
	if ((v = awsxml_value(f)) == NULL) {
		awsxml_fail(x, "XML text is not valid UTF-8");
		return;
	}
	if (x->depth == 1)
		x->root = json_incref(v);
	else
		awsxml_add_child(x, &x->stack[x->depth - 2], f->name, v);
	json_decref(v);
	awsxml_frame_free(f);
	x->depth--;
}

static void XMLCALL
awsxml_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)internal;
	awsxml_fail(arg, "XML DOCTYPE declarations are not allowed");
}

static void XMLCALL
awsxml_entity(void *arg, const XML_Char *name, int param,
    const XML_Char *value, int value_len, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	awsxml_fail(arg, "XML entity declarations are not allowed");
}

json_t *
aws_xml_parse(const char *xml, size_t len, char **ret_root, char **cause)
{
	struct awsxml	 x;
	json_t		*root = NULL;
	size_t		 i, off, n;
	int		 ok, final;

	wipe_init();
	if (xml == NULL || len == 0) {
		*cause = xstrdup("empty XML body");
		return NULL;
	}
	if (len > AWS_XML_MAX_SIZE) {
		*cause = xprintf("XML body too large (%zu bytes, limit %d)",
		    len, AWS_XML_MAX_SIZE);
		return NULL;
	}
	if (len > (size_t)0x7fffffff) {
		*cause = xstrdup("XML body too large");
		return NULL;
	}
	memset(&x, 0, sizeof(x));
	awsxml_mem_used = 0;
	awsxml_mem_refused = 0;
	if ((x.parser = XML_ParserCreate_MM(NULL, &awsxml_mem, NULL)) ==
	    NULL) {
		*cause = xstrdup("cannot create an XML parser");
		return NULL;
	}
	XML_SetUserData(x.parser, &x);
	XML_SetElementHandler(x.parser, awsxml_start, awsxml_end);
	XML_SetCharacterDataHandler(x.parser, awsxml_text);
	XML_SetStartDoctypeDeclHandler(x.parser, awsxml_doctype);
	XML_SetEntityDeclHandler(x.parser, awsxml_entity);
	XML_SetParamEntityParsing(x.parser, XML_PARAM_ENTITY_PARSING_NEVER);

	for (off = 0;; off += n) {
		n = len - off < AWSXML_CHUNK ? len - off : AWSXML_CHUNK;
		final = off + n == len;
		ok = XML_Parse(x.parser, xml + off, (int)n, final) ==
		    XML_STATUS_OK;
		if (!ok || final)
			break;
	}
	if (x.error == NULL && !ok && awsxml_mem_refused)
		x.error = xprintf("XML parser memory limit exceeded (%zu "
		    "bytes)", AWS_XML_MAX_PARSER_MEM);
	if (x.error == NULL && !ok) {
		x.error = xprintf("invalid XML at line %lu column %lu: %s",
		    (unsigned long)XML_GetCurrentLineNumber(x.parser),
		    (unsigned long)XML_GetCurrentColumnNumber(x.parser),
		    XML_ErrorString(XML_GetErrorCode(x.parser)));
	}
	if (x.error == NULL && x.root == NULL)
		x.error = xstrdup("XML without a root element");
	if (x.error != NULL) {
		*cause = x.error;
		json_decref(x.root);
		free(x.root_name);
	} else {
		root = x.root;
		if (ret_root != NULL)
			*ret_root = x.root_name;
		else
			free(x.root_name);
	}
	for (i = 0; i < (size_t)x.depth; i++)
		awsxml_frame_free(&x.stack[i]);
	XML_ParserFree(x.parser);
	return root;
}

static int
awsxml_ends_with(const char *s, const char *suffix, size_t *ret_stem)
{
	size_t	 n = strlen(s), m = strlen(suffix);

	if (n <= m || strcmp(s + n - m, suffix) != 0)
		return 0;
	*ret_stem = n - m;
	return 1;
}

json_t *
aws_xml_to_json(const char *xml, size_t len, char **cause)
{
	json_t	*root;
	char	*name = NULL;

	if ((root = aws_xml_parse(xml, len, &name, cause)) == NULL)
		return NULL;
	root = aws_xml_unwrap(root, name);
	free(name);
	return root;
}

json_t *
aws_xml_unwrap(json_t *root, const char *name)
{
	json_t		*out, *result, *v;
	char		*result_name = NULL;
	const char	*k;
	size_t		 stem;

	if (name == NULL)
		name = "";
	if (!json_is_object(root)) {
		if (json_is_string(root)) {
			/* A text-only root keeps its name. */
			out = json_object();
			json_object_set_new(out, name, root);
			return out;
		}
		return root;	/* a list of <item>s */
	}
	out = json_object();
	result = NULL;
	if (awsxml_ends_with(name, "Response", &stem)) {
		result_name = xprintf("%.*sResult", (int)stem, name);
		result = json_object_get(root, result_name);
	}
	if (result != NULL && json_is_object(result)) {
		json_object_foreach(result, k, v)
			json_object_set(out, k, v);
	}
	json_object_foreach(root, k, v) {
		if (strcmp(k, "ResponseMetadata") == 0)
			continue;
		if (result_name != NULL && strcmp(k, result_name) == 0)
			continue;	/* the wrapper, hoisted or empty */
		if (json_object_get(out, k) == NULL)
			json_object_set(out, k, v);
	}
	json_decref(root);
	free(result_name);
	return out;
}
