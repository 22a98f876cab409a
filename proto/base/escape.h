/* kefu: text from outside (archive member names, manifest fields) made safe for a one-line
 * message. SPDX-License-Identifier: MIT */
#ifndef KF_PROTO_ESCAPE_H
#define KF_PROTO_ESCAPE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Bytes of the buffer kf_escaped() fills: room for a long name, well inside a message. */
#define KF_ESCAPED_SIZE 160

/*
 * Renders len bytes of in (NUL bytes included) into out, at most cap bytes with the
 * terminating NUL, so that printing out can neither split a line nor reach a terminal
 * as a command: \n, \r, \t and \\ for those; \xNN for every other byte below 0x20, DEL,
 * each byte of invalid or overlong UTF-8, and the two bytes of a C1 control; \uNNNN for
 * the code points that reorder or break text (U+2028, U+2029, U+200E/F, U+202A-U+202E,
 * U+2066-U+2069). Valid printable UTF-8 is kept. When out is too small the text ends
 * with "..." at a character boundary. Returns out (cap 0: out untouched, NULL returned).
 */
char *kf_escape(const char *in, size_t len, char *out, size_t cap);

struct kf_escaped {
	char text[KF_ESCAPED_SIZE];
};

/*
 * The same for a C string (NULL gives "(none)"), returned by value, for use inside one
 * expression: kf_error_set(err, ..., "%s is refused", kf_escaped(name).text).
 */
struct kf_escaped kf_escaped(const char *in);

/*
 * Prints a formatted text on a terminal, ending it with a newline, with every line
 * of it escaped as kf_escape() does: text from the other party (a chat line, a
 * reason, a file name) can neither draw on the screen nor fake a line of the
 * program's own. The text's newlines stay newlines; one at its very end adds no
 * empty line.
 */
void kf_terminal_print(FILE *out, const char *format, ...) __attribute__((format(printf, 2, 3)));
void kf_terminal_vprint(FILE *out, const char *format, va_list args)
	__attribute__((format(printf, 2, 0)));

#endif
