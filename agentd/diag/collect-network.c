/* kefu-agentd collector: interfaces, addresses, routes, DNS. SPDX-License-Identifier: MIT */
#include "agentd/diag/collect.h"
#include "agentd/sysfs.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NET_CLASS "/sys/class/net"

static void add_addresses(const char *name, json_t *iface, struct ifaddrs *list)
{
	json_t *addresses = json_array();
	struct ifaddrs *ifa;

	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
		char text[INET6_ADDRSTRLEN + 8];
		int prefix = 0;
		const unsigned char *mask;
		size_t mask_len, i;

		if (ifa->ifa_addr == NULL || strcmp(ifa->ifa_name, name) != 0)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr,
				  text, sizeof(text));
			mask = ifa->ifa_netmask
				       ? (const unsigned char *)&(
						 (struct sockaddr_in *)(void *)ifa->ifa_netmask)
						 ->sin_addr
				       : NULL;
			mask_len = 4;
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *)(void *)ifa->ifa_addr)->sin6_addr, text,
				  sizeof(text));
			mask = ifa->ifa_netmask
				       ? (const unsigned char *)&(
						 (struct sockaddr_in6 *)(void *)ifa->ifa_netmask)
						 ->sin6_addr
				       : NULL;
			mask_len = 16;
		} else {
			continue;
		}
		for (i = 0; mask != NULL && i < mask_len; i++)
			prefix += __builtin_popcount(mask[i]);
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "/%d", prefix);
		kf_json_append_str(addresses, text);
	}
	json_object_set_new(iface, "addresses", addresses);
}

static void add_interface(struct kf_collect_ctx *ctx, const char *name, json_t *list,
			  struct ifaddrs *addrs)
{
	char dir[PATH_MAX], devdir[PATH_MAX], path[PATH_MAX], owner[128], value[KF_ATTR_SIZE];
	char driver[128] = "";
	json_t *iface = json_object();

	snprintf(dir, sizeof(dir), NET_CLASS "/%s", name);
	kf_json_set_str(iface, "name", name);
	kf_collect_attr(ctx, dir, "address", value, sizeof(value));
	kf_json_set_str(iface, "mac", value);
	kf_collect_attr(ctx, dir, "operstate", value, sizeof(value));
	kf_json_set_str(iface, "operstate", value);
	kf_collect_attr(ctx, dir, "carrier", value, sizeof(value));
	json_object_set_new(iface, "carrier",
			    value[0] ? json_boolean(value[0] == '1') : json_null());
	kf_collect_attr(ctx, dir, "mtu", value, sizeof(value));
	json_object_set_new(iface, "mtu", value[0] ? json_integer(atol(value)) : json_null());
	kf_collect_attr(ctx, dir, "speed", value, sizeof(value));
	json_object_set_new(iface, "speed_mbps",
			    value[0] && atol(value) > 0 ? json_integer(atol(value)) : json_null());
	snprintf(devdir, sizeof(devdir), "%.3000s/device", dir);
	kf_collect_driver(ctx, devdir, driver, sizeof(driver));
	kf_json_set_str(iface, "driver", driver);
	json_object_set_new(iface, "is_virtual", json_boolean(!kf_sysfs_exists(ctx->root, devdir)));
	owner[0] = '\0';
	if (kf_sysfs_link_path(ctx->root, NET_CLASS, name, path, sizeof(path)) == KF_OK)
		kf_collect_device_of(path, owner, sizeof(owner));
	kf_json_set_str(iface, "device", owner);
	if (addrs != NULL)
		add_addresses(name, iface, addrs);
	else
		json_object_set_new(iface, "addresses", json_array());
	json_array_append_new(list, iface);
}

/* /proc/net/route: "Iface Destination Gateway Flags ..." in little-endian hex. */
static void add_routes(struct kf_collect_ctx *ctx, json_t *network)
{
	struct kf_buf buf = {0};
	json_t *routes = json_array();
	char *text, *line, *save = NULL;

	json_object_set_new(network, "default_routes", routes);
	if (kf_collect_read(ctx, "/proc/net/route", 256 * 1024, "proc/net/route", &buf, NULL) !=
	    KF_OK) {
		kf_collect_note(ctx, "/proc/net/route unreadable; default route unknown");
		return;
	}
	text = malloc(buf.len + 1);
	if (text != NULL) {
		memcpy(text, buf.data, buf.len);
		text[buf.len] = '\0';
		kf_text_sanitize(text, buf.len);
		for (line = strtok_r(text, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			char iface[64], gateway_text[INET_ADDRSTRLEN];
			unsigned int destination, gateway, mask = 1, flags;
			struct in_addr addr;
			json_t *route;

			if (sscanf(line, "%63s %x %x %x %*s %*s %*s %x", iface, &destination,
				   &gateway, &flags, &mask) != 5 ||
			    destination != 0 || mask != 0)
				continue;
			addr.s_addr = gateway;
			inet_ntop(AF_INET, &addr, gateway_text, sizeof(gateway_text));
			route = json_object();
			kf_json_set_str(route, "interface", iface);
			kf_json_set_str(route, "gateway", gateway_text);
			kf_json_set_str(route, "family", "ipv4");
			json_array_append_new(routes, route);
		}
		free(text);
	}
	kf_buf_free(&buf);
}

/* /proc/net/ipv6_route: "DEST PLEN SRC SPLEN NEXTHOP METRIC REF USE FLAGS IFACE" in hex. */
static void add_ipv6_routes(struct kf_collect_ctx *ctx, json_t *routes)
{
	struct kf_buf buf = {0};
	char *text, *line, *save = NULL;

	if (kf_collect_read(ctx, "/proc/net/ipv6_route", 256 * 1024, "proc/net/ipv6_route", &buf,
			    NULL) != KF_OK)
		return;
	text = malloc(buf.len + 1);
	if (text != NULL) {
		memcpy(text, buf.data, buf.len);
		text[buf.len] = '\0';
		kf_text_sanitize(text, buf.len);
		for (line = strtok_r(text, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			char dest[33], next[33], iface[64], gateway[INET6_ADDRSTRLEN];
			unsigned int prefix;
			unsigned char addr[16];
			json_t *route;
			int i;

			if (sscanf(line, "%32s %x %*s %*s %32s %*s %*s %*s %*s %63s", dest, &prefix,
				   next, iface) != 4 ||
			    prefix != 0 || strspn(dest, "0") != 32 || strspn(next, "0") == 32 ||
			    strlen(next) != 32 || strcmp(iface, "lo") == 0)
				continue;
			for (i = 0; i < 16; i++) {
				unsigned int byte;
				if (sscanf(next + 2 * i, "%2x", &byte) != 1)
					break;
				addr[i] = (unsigned char)byte;
			}
			if (i != 16)
				continue;
			inet_ntop(AF_INET6, addr, gateway, sizeof(gateway));
			route = json_object();
			kf_json_set_str(route, "interface", iface);
			kf_json_set_str(route, "gateway", gateway);
			kf_json_set_str(route, "family", "ipv6");
			json_array_append_new(routes, route);
		}
		free(text);
	}
	kf_buf_free(&buf);
}

static void resolve(struct kf_collect_ctx *ctx, json_t *dns)
{
	struct gaicb request = {0}, *list[1] = {&request};
	struct addrinfo hints = {0};
	struct timespec timeout = {.tv_sec = ctx->tool_timeout_ms / 1000,
				   .tv_nsec = (ctx->tool_timeout_ms % 1000) * 1000000L};
	json_t *check = json_object(), *answers = json_array();
	int r;

	kf_json_set_str(check, "name", ctx->resolve_name);
	hints.ai_socktype = SOCK_STREAM;
	request.ar_name = ctx->resolve_name;
	request.ar_request = &hints;
	/* getaddrinfo_a lets the check give up after the timeout, which getaddrinfo cannot. */
	r = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (r == 0) {
		r = gai_suspend((const struct gaicb *const *)list, 1, &timeout);
		if (r == EAI_AGAIN) {
			gai_cancel(&request);
			r = EAI_AGAIN;
		} else {
			r = gai_error(&request);
		}
	}
	if (r == 0) {
		struct addrinfo *ai;
		for (ai = request.ar_result; ai != NULL; ai = ai->ai_next) {
			char text[INET6_ADDRSTRLEN] = "";
			if (ai->ai_family == AF_INET)
				inet_ntop(AF_INET,
					  &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr,
					  text, sizeof(text));
			else if (ai->ai_family == AF_INET6)
				inet_ntop(AF_INET6,
					  &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr,
					  text, sizeof(text));
			if (text[0] != '\0')
				kf_json_append_str(answers, text);
		}
		freeaddrinfo(request.ar_result);
	}
	json_object_set_new(check, "ok", json_boolean(r == 0));
	kf_json_set_str(check, "error", r == 0 ? NULL : gai_strerror(r));
	json_object_set_new(check, "addresses", answers);
	json_object_set_new(dns, "check", check);
}

static void add_dns(struct kf_collect_ctx *ctx, json_t *network)
{
	struct kf_buf buf = {0};
	json_t *dns = json_object(), *servers = json_array();
	char *text, *line, *save = NULL;

	json_object_set_new(dns, "nameservers", servers);
	json_object_set_new(network, "dns", dns);
	if (kf_collect_read(ctx, "/etc/resolv.conf", 64 * 1024, "etc/resolv.conf", &buf, NULL) ==
	    KF_OK) {
		text = malloc(buf.len + 1);
		if (text != NULL) {
			memcpy(text, buf.data, buf.len);
			text[buf.len] = '\0';
			kf_text_sanitize(text, buf.len);
			for (line = strtok_r(text, "\n", &save); line != NULL;
			     line = strtok_r(NULL, "\n", &save)) {
				char server[128];
				if (sscanf(line, "nameserver %127s", server) == 1)
					kf_json_append_str(servers, server);
			}
			free(text);
		}
	} else {
		kf_collect_note(ctx, "/etc/resolv.conf unreadable");
	}
	kf_buf_free(&buf);
	if (ctx->resolve_name != NULL && ctx->is_live)
		resolve(ctx, dns);
	else
		json_object_set_new(dns, "check", json_null());
}

int kf_collect_network(struct kf_collect_ctx *ctx, struct kf_error *err)
{
	json_t *network = ctx->report->network, *list = json_array();
	struct ifaddrs *addrs = NULL;
	char **names;
	size_t count, i;
	int r;

	json_object_set_new(network, "interfaces", list);
	add_routes(ctx, network);
	add_ipv6_routes(ctx, json_object_get(network, "default_routes"));
	add_dns(ctx, network);
	r = kf_collect_list(ctx, NET_CLASS, &names, &count, err);
	if (r == KF_ERR_NOT_FOUND) {
		kf_collect_note(ctx, "no network interfaces (%s absent)", NET_CLASS);
		kf_error_clear(err);
		return KF_OK;
	}
	if (r != KF_OK)
		return r;
	if (ctx->is_live && getifaddrs(&addrs) != 0)
		addrs = NULL;
	for (i = 0; i < count; i++)
		add_interface(ctx, names[i], list, addrs);
	if (addrs != NULL)
		freeifaddrs(addrs);
	kf_collect_list_free(names, count);
	return KF_OK;
}
