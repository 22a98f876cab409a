/* kefu: escaping outside text for one-line messages. SPDX-License-Identifier: MIT */
#include "proto/base/escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at in (len bytes left) and its code point, or 0. */
static size_t utf8_sequence(const unsigned char *in, size_t len, uint32_t *code)
{
	size_t need, i;
	uint32_t c = in[0], min;

	if (c < 0x80) {
		*code = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((in[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (in[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not text. */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*code = c;
	return need;
}

/* Code points that make a terminal or an editor show text other than what it is. */
static bool is_reordering(uint32_t c)
{
	return c == 0x2028 || c == 0x2029 || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* The rendering of the character at in into piece (at least 13 bytes); returns bytes used. */
static size_t render(const unsigned char *in, size_t len, char *piece, size_t *piece_len)
{
	uint32_t code = 0;
	size_t n = utf8_sequence(in, len, &code);

	if (n == 0) {
		*piece_len = (size_t)snprintf(piece, 13, "\\x%02x", in[0]);
		return 1;
	}
	if (n == 1) {
		switch (code) {
		case '\n':
			*piece_len = (size_t)snprintf(piece, 13, "\\n");
			break;
		case '\r':
			*piece_len = (size_t)snprintf(piece, 13, "\\r");
			break;
		case '\t':
			*piece_len = (size_t)snprintf(piece, 13, "\\t");
			break;
		case '\\':
			*piece_len = (size_t)snprintf(piece, 13, "\\\\");
			break;
		default:
			if (code < 0x20 || code == 0x7f) {
				*piece_len = (size_t)snprintf(piece, 13, "\\x%02x", code);
			} else {
				piece[0] = (char)code;
				*piece_len = 1;
			}
		}
		return 1;
	}
	if (code >= 0x80 && code <= 0x9f) {
		*piece_len = (size_t)snprintf(piece, 13, "\\x%02x\\x%02x", in[0], in[1]);
		return n;
	}
	if (is_reordering(code)) {
		*piece_len = (size_t)snprintf(piece, 13, "\\u%04x", (unsigned)code);
		return n;
	}
	memcpy(piece, in, n);
	*piece_len = n;
	return n;
}

char *kf_escape(const char *in, size_t len, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t used = 0, mark = 0, i = 0;
	bool truncated = false;

	if (cap == 0)
		return NULL;
	while (i < len) {
		char piece[13];
		size_t piece_len, consumed = render(p + i, len - i, piece, &piece_len);

		if (used + piece_len + 1 > cap) {
			truncated = true;
			break;
		}
		memcpy(out + used, piece, piece_len);
		used += piece_len;
		i += consumed;
		/* The last place where "..." and the NUL still fit, should a later piece not. */
		if (used + 4 <= cap)
			mark = used;
	}
	if (truncated) {
		used = mark;
		if (used + 4 <= cap) {
			memcpy(out + used, "...", 3);
			used += 3;
		}
	}
	out[used] = '\0';
	return out;
}

struct kf_escaped kf_escaped(const char *in)
{
	struct kf_escaped e;

	if (in == NULL)
		snprintf(e.text, sizeof(e.text), "(none)");
	else
		kf_escape(in, strlen(in), e.text, sizeof(e.text));
	return e;
}

void kf_terminal_vprint(FILE *out, const char *format, va_list args)
{
	char *text = NULL, *line, *next, *safe;
	int len = vasprintf(&text, format, args);

	if (len < 0)
		return;
	if (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0'; /* the line's own end: one newline ends it either way */
	/* The worst a byte becomes is \xNN: four bytes for one. */
	safe = malloc((size_t)len * 4 + 4);
	if (safe == NULL) {
		free(text);
		return;
	}
	for (line = text;; line = next + 1) {
		next = strchr(line, '\n');
		kf_escape(line, next != NULL ? (size_t)(next - line) : strlen(line), safe,
			  (size_t)len * 4 + 4);
		fputs(safe, out);
		fputc('\n', out);
		if (next == NULL)
			break;
	}
	free(safe);
	free(text);
}

void kf_terminal_print(FILE *out, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	kf_terminal_vprint(out, format, args);
	va_end(args);
}
