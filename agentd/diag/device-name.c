/* kefu-agentd: the kernel's names for PCI and USB devices. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"

#include <ctype.h>
#include <string.h>

bool kf_device_name_is_pci(const char *s, size_t len)
{
	static const char shape[] = "hhhh:hh:hh.h";
	size_t i;

	if (len != sizeof(shape) - 1)
		return false;
	for (i = 0; i < len; i++) {
		if (shape[i] == 'h' ? !isxdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	}
	return true;
}

/* Advances *i over one or more digits; false when there is none. */
static bool skip_digits(const char *s, size_t len, size_t *i)
{
	size_t start = *i;

	while (*i < len && isdigit((unsigned char)s[*i]))
		(*i)++;
	return *i > start;
}

enum kf_usb_name kf_device_name_usb(const char *s, size_t len)
{
	size_t i = 0;

	/* A root hub: "usb1". */
	if (len > 3 && strncmp(s, "usb", 3) == 0) {
		i = 3;
		return skip_digits(s, len, &i) && i == len ? KF_USB_NAME_DEVICE : KF_USB_NAME_NONE;
	}
	/* BUS-PORT[.PORT]..., then ":CONFIG.INTERFACE" for an interface. */
	if (!skip_digits(s, len, &i) || i >= len || s[i++] != '-' || !skip_digits(s, len, &i))
		return KF_USB_NAME_NONE;
	while (i < len && s[i] == '.') {
		i++;
		if (!skip_digits(s, len, &i))
			return KF_USB_NAME_NONE;
	}
	if (i == len)
		return KF_USB_NAME_DEVICE;
	if (s[i++] != ':' || !skip_digits(s, len, &i) || i >= len || s[i++] != '.' ||
	    !skip_digits(s, len, &i) || i != len)
		return KF_USB_NAME_NONE;
	return KF_USB_NAME_INTERFACE;
}
