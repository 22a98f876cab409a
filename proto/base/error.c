/* kefu: error codes and messages shared by every library module. SPDX-License-Identifier: MIT */
#include "proto/base/error.h"

#include <stdarg.h>
#include <stdio.h>

int kf_error_set(struct kf_error *err, int code, const char *format, ...)
{
	va_list args;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(args, format);
	vsnprintf(err->message, sizeof(err->message), format, args);
	va_end(args);
	return code;
}

void kf_error_clear(struct kf_error *err)
{
	if (err == NULL)
		return;
	err->code = KF_OK;
	err->message[0] = '\0';
}

const char *kf_err_name(int code)
{
	switch (code) {
	case KF_OK:
		return "ok";
	case KF_ERR_INVALID:
		return "invalid";
	case KF_ERR_TOO_LARGE:
		return "too-large";
	case KF_ERR_NOMEM:
		return "no-memory";
	case KF_ERR_IO:
		return "io";
	case KF_ERR_UNSUPPORTED:
		return "unsupported";
	case KF_ERR_DENIED:
		return "denied";
	case KF_ERR_TIMEOUT:
		return "timeout";
	case KF_ERR_CLOSED:
		return "closed";
	case KF_ERR_AUTH:
		return "auth";
	case KF_ERR_NOT_FOUND:
		return "not-found";
	case KF_ERR_STATE:
		return "state";
	}
	return "unknown";
}
