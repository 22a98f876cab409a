/* kefu-console: the RFB handshake messages the view reads. SPDX-License-Identifier: MIT */
#include "console/screen/rfb-handshake.h"

#include "proto/base/error.h"

#include <string.h>

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int digits(const uint8_t *p, int count, int *value)
{
	*value = 0;
	for (int i = 0; i < count; i++) {
		if (p[i] < '0' || p[i] > '9')
			return KF_ERR_INVALID;
		*value = *value * 10 + (p[i] - '0');
	}
	return KF_OK;
}

int kf_rfb_read_version(const uint8_t *in, size_t len, int *minor)
{
	if (len < 12)
		return 0;
	int major, number;
	if (memcmp(in, "RFB ", 4) != 0 || in[7] != '.' || in[11] != '\n' ||
	    digits(in + 4, 3, &major) != KF_OK || digits(in + 8, 3, &number) != KF_OK || major != 3)
		return KF_ERR_INVALID;
	/* 3.3 and 3.7 as asked; anything newer (3.8, Apple's 3.889) as 3.8. */
	*minor = number >= 8 ? 8 : number == 7 ? 7 : 3;
	return 12;
}

int kf_rfb_read_security_types(const uint8_t *in, size_t len, uint8_t wanted_type)
{
	if (len < 1)
		return 0;
	if (in[0] == 0)
		return KF_ERR_INVALID;
	if (len < 1u + in[0])
		return 0;
	for (int i = 0; i < in[0]; i++)
		if (in[1 + i] == wanted_type)
			return 1 + in[0];
	return KF_ERR_INVALID;
}

int kf_rfb_read_security_result(const uint8_t *in, size_t len)
{
	if (len < 4)
		return 0;
	return get_u32(in) == 0 ? 4 : KF_ERR_INVALID;
}

int kf_rfb_read_server_init(const uint8_t *in, size_t len, uint32_t name_max)
{
	if (len < 24)
		return 0;
	uint32_t name_len = get_u32(in + 20);
	/* 8, 16 or 32 bits per pixel, and a size a viewer can allocate. */
	uint16_t width = (uint16_t)(in[0] << 8 | in[1]), height = (uint16_t)(in[2] << 8 | in[3]);
	if (name_len > name_max || width == 0 || height == 0 ||
	    (in[4] != 8 && in[4] != 16 && in[4] != 32))
		return KF_ERR_INVALID;
	if (len < 24 + (size_t)name_len)
		return 0;
	return (int)(24 + name_len);
}
