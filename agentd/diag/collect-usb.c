/* kefu-agentd collector: USB devices, interfaces and drivers. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USB_DEVICES "/sys/bus/usb/devices"

static void set_hex(json_t *object, const char *key, int digits, unsigned long value, bool is_known,
		    unsigned long max)
{
	char text[16];

	if (!is_known || value > max) {
		json_object_set_new(object, key, json_null());
		return;
	}
	snprintf(text, sizeof(text), "%0*lx", digits, value);
	json_object_set_new(object, key, json_string(text));
}

static unsigned long attr_hex(const struct kf_collect_ctx *ctx, const char *dir, const char *name,
			      bool *is_known)
{
	unsigned long value = 0;

	*is_known = kf_sysfs_attr_hex(ctx->root, dir, name, &value) == KF_OK;
	return value;
}

static json_t *interface_of(const struct kf_collect_ctx *ctx, const char *name)
{
	char dir[PATH_MAX], value[KF_ATTR_SIZE], driver[128] = "";
	json_t *interface = json_object(), *uevent;
	unsigned long cls, sub, proto, number;
	bool known_cls, known_sub, known_proto, known_number;

	snprintf(dir, sizeof(dir), USB_DEVICES "/%s", name);
	uevent = kf_collect_uevent(ctx, dir);
	snprintf(value, sizeof(value), "usb:%s", name);
	kf_json_set_str(interface, "id", value);
	number = attr_hex(ctx, dir, "bInterfaceNumber", &known_number);
	json_object_set_new(interface, "number",
			    known_number ? json_integer((json_int_t)number) : json_null());
	cls = attr_hex(ctx, dir, "bInterfaceClass", &known_cls);
	sub = attr_hex(ctx, dir, "bInterfaceSubClass", &known_sub);
	proto = attr_hex(ctx, dir, "bInterfaceProtocol", &known_proto);
	if (known_cls && known_sub && known_proto && cls <= 0xff && sub <= 0xff && proto <= 0xff) {
		snprintf(value, sizeof(value), "%02lx%02lx%02lx", cls, sub, proto);
		kf_json_set_str(interface, "class", value);
	} else {
		kf_json_set_str(interface, "class", NULL);
	}
	if (kf_collect_attr(ctx, dir, "modalias", value, sizeof(value)) != KF_OK ||
	    value[0] == '\0')
		snprintf(value, sizeof(value), "%s", kf_json_str(uevent, "MODALIAS"));
	kf_json_set_str(interface, "modalias", value);
	if (kf_collect_driver(ctx, dir, driver, sizeof(driver)) != KF_OK)
		snprintf(driver, sizeof(driver), "%s", kf_json_str(uevent, "DRIVER"));
	kf_json_set_str(interface, "driver", driver);
	kf_json_set_new(interface, "module", kf_collect_module_of(ctx, "usb", driver));
	json_decref(uevent);
	return interface;
}

static void add_device(struct kf_collect_ctx *ctx, const char *name, char **names, size_t count)
{
	char dir[PATH_MAX], value[KF_ATTR_SIZE], driver[128] = "", prefix[160];
	json_t *device = json_object(), *uevent, *interfaces = json_array(), *first_bound = NULL;
	unsigned long vendor, product, bcd, cls, sub, proto;
	bool known_vendor, known_product, known_bcd, known_cls, known_sub, known_proto;
	size_t i, prefix_len;
	long long busnum, devnum;

	snprintf(dir, sizeof(dir), USB_DEVICES "/%s", name);
	uevent = kf_collect_uevent(ctx, dir);
	snprintf(value, sizeof(value), "usb:%s", name);
	kf_json_set_str(device, "id", value);
	kf_json_set_str(device, "bus", "usb");
	kf_json_set_str(device, "kernel_name", name);

	vendor = attr_hex(ctx, dir, "idVendor", &known_vendor);
	product = attr_hex(ctx, dir, "idProduct", &known_product);
	bcd = attr_hex(ctx, dir, "bcdDevice", &known_bcd);
	if (!(known_vendor && known_product)) {
		/* uevent PRODUCT is "vendor/product/bcdDevice" without leading zeros. */
		const char *p = kf_json_str(uevent, "PRODUCT");
		if (sscanf(p, "%lx/%lx/%lx", &vendor, &product, &bcd) == 3)
			known_vendor = known_product = known_bcd = true;
	}
	set_hex(device, "vendor_id", 4, vendor, known_vendor && known_product, 0xffff);
	set_hex(device, "product_id", 4, product, known_vendor && known_product, 0xffff);
	set_hex(device, "revision", 4, bcd, known_bcd, 0xffff);
	cls = attr_hex(ctx, dir, "bDeviceClass", &known_cls);
	sub = attr_hex(ctx, dir, "bDeviceSubClass", &known_sub);
	proto = attr_hex(ctx, dir, "bDeviceProtocol", &known_proto);
	if (known_cls && known_sub && known_proto && cls <= 0xff && sub <= 0xff && proto <= 0xff) {
		snprintf(value, sizeof(value), "%02lx%02lx%02lx", cls, sub, proto);
		kf_json_set_str(device, "class", value);
	} else {
		kf_json_set_str(device, "class", NULL);
	}
	kf_json_set_str(device, "name", NULL);
	kf_json_set_str(device, "vendor_name", NULL);
	kf_collect_attr(ctx, dir, "manufacturer", value, sizeof(value));
	kf_json_set_str(device, "manufacturer", value);
	kf_collect_attr(ctx, dir, "product", value, sizeof(value));
	kf_json_set_str(device, "product", value);
	kf_collect_attr(ctx, dir, "serial", value, sizeof(value));
	kf_json_set_str(device, "serial", value);
	busnum = kf_collect_attr_number(ctx, dir, "busnum");
	devnum = kf_collect_attr_number(ctx, dir, "devnum");
	if (busnum < 0)
		busnum =
			kf_json_str(uevent, "BUSNUM")[0] ? atol(kf_json_str(uevent, "BUSNUM")) : -1;
	if (devnum < 0)
		devnum =
			kf_json_str(uevent, "DEVNUM")[0] ? atol(kf_json_str(uevent, "DEVNUM")) : -1;
	json_object_set_new(device, "busnum", busnum >= 0 ? json_integer(busnum) : json_null());
	json_object_set_new(device, "devnum", devnum >= 0 ? json_integer(devnum) : json_null());
	kf_collect_attr(ctx, dir, "speed", value, sizeof(value));
	kf_json_set_str(device, "speed_mbps", value);

	/* Interfaces are the entries "NAME:CONFIG.INTERFACE". */
	/* A root hub "usbN" names its interfaces "N-0:1.0". */
	if (strncmp(name, "usb", 3) == 0)
		prefix_len = (size_t)snprintf(prefix, sizeof(prefix), "%s-0:", name + 3);
	else
		prefix_len = (size_t)snprintf(prefix, sizeof(prefix), "%s:", name);
	for (i = 0; i < count; i++) {
		if (strncmp(names[i], prefix, prefix_len) == 0) {
			json_t *interface = interface_of(ctx, names[i]);
			json_array_append_new(interfaces, interface);
			if (first_bound == NULL &&
			    json_is_string(json_object_get(interface, "driver")))
				first_bound = interface;
		}
	}
	json_object_set_new(device, "interfaces", interfaces);

	value[0] = '\0';
	if (json_array_size(interfaces) > 0)
		snprintf(value, sizeof(value), "%s",
			 kf_json_str(json_array_get(interfaces, 0), "modalias"));
	if (value[0] == '\0' && known_vendor && known_product && known_bcd && known_cls &&
	    known_sub && known_proto)
		snprintf(value, sizeof(value), "usb:v%04lXp%04lXd%04lXdc%02lXdsc%02lXdp%02lX",
			 vendor & 0xffff, product & 0xffff, bcd & 0xffff, cls & 0xff, sub & 0xff,
			 proto & 0xff);
	kf_json_set_str(device, "modalias", value);

	/*
	 * What a customer calls the device's driver is the one on its interfaces
	 * (usbhid, uvcvideo); the device-level "usb" driver binds to every device.
	 */
	if (kf_collect_driver(ctx, dir, driver, sizeof(driver)) != KF_OK)
		snprintf(driver, sizeof(driver), "%s", kf_json_str(uevent, "DRIVER"));
	kf_json_set_str(device, "device_driver", driver);
	if (first_bound != NULL) {
		kf_json_set_str(device, "driver", kf_json_str(first_bound, "driver"));
		json_object_set(device, "module", json_object_get(first_bound, "module"));
	} else if (json_array_size(interfaces) == 0) {
		kf_json_set_str(device, "driver", driver);
		kf_json_set_new(device, "module", kf_collect_module_of(ctx, "usb", driver));
	} else {
		kf_json_set_str(device, "driver", NULL);
		json_object_set_new(device, "module", json_null());
	}
	kf_collect_device_add(ctx, device, uevent, USB_DEVICES, name, dir);
}

int kf_collect_usb(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	char **names;
	size_t count, i;
	int r;

	r = kf_collect_bus(ctx, USB_DEVICES, "USB", &names, &count, err);
	if (r != KF_OK)
		return r;
	for (i = 0; i < count; i++) {
		/* Interfaces (with ':') belong to their device; ports and hubs' ports are skipped.
		 */
		if (strchr(names[i], ':') == NULL && strstr(names[i], "-port") == NULL)
			add_device(ctx, names[i], names, count);
	}
	kf_collect_list_free(names, count);
	return KF_OK;
}
