/* kefu-agentd watch: file systems' free room, and when they will be full at the current rate.
 * SPDX-License-Identifier: MIT */
#include "agentd/sysfs.h"
#include "agentd/watch/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

/* The fit reads this much of the history, and needs points spanning at least MIN_SPAN. */
#define FIT_WINDOW (30 * KF_WATCH_DAY)
#define MIN_SPAN   (2 * KF_WATCH_DAY)
#define MIN_POINTS 3
/* Told when the file system will be full within this many days at the current rate. */
#define WARN_DAYS  14
#define MOUNTS_MAX 64

struct mount_room {
	char path[256];
	double size, free; /* bytes; free is what an ordinary user may still write */
};

/* File systems that hold the customer's files; pseudo and network ones are left out. */
static bool is_local_disk_type(const char *type)
{
	static const char *const types[] = {
		"ext2", "ext3",  "ext4", "xfs",      "btrfs", "f2fs",     "vfat",   "exfat",
		"ntfs", "ntfs3", "jfs",  "reiserfs", "zfs",   "bcachefs", "nilfs2", NULL};

	for (size_t i = 0; types[i] != NULL; i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

/*
 * KEFU_WATCH_STATVFS names a file of "MOUNT SIZE_BYTES FREE_BYTES" lines that
 * stands for statvfs(3) of the mounts: the test seam that lets a series of
 * runs see a file system fill.
 */
static size_t read_seam(const char *path, struct mount_room *rooms, size_t max)
{
	FILE *f = fopen(path, "re");
	char line[512];
	size_t n = 0;

	if (f == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		double size, free_bytes;
		char mount[256];

		if (sscanf(line, "%255s %lf %lf", mount, &size, &free_bytes) == 3 && size > 0 &&
		    free_bytes >= 0 && free_bytes <= size) {
			snprintf(rooms[n].path, sizeof(rooms[n].path), "%s", mount);
			kf_text_sanitize(rooms[n].path, strlen(rooms[n].path));
			rooms[n].size = size;
			rooms[n].free = free_bytes;
			n++;
		}
	}
	fclose(f);
	return n;
}

/* statvfs of the local, writable mounts in /proc/self/mounts. */
static size_t read_mounts(struct kf_watch_run *run, struct mount_room *rooms, size_t max)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char line[1024], devices[MOUNTS_MAX][128];
	size_t n = 0, n_devices = 0;

	if (f == NULL) {
		kf_watch_note(run, "the mounted file systems could not be listed");
		return 0;
	}
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		char device[128], mount[256], type[32], options[256];
		struct statvfs st;
		bool seen = false;

		if (sscanf(line, "%127s %255s %31s %255s", device, mount, type, options) != 4 ||
		    !is_local_disk_type(type) || strcmp(options, "ro") == 0 ||
		    strncmp(options, "ro,", 3) == 0)
			continue;
		/* A device mounted twice (bind mounts, btrfs subvolumes) is one file system. */
		for (size_t i = 0; i < n_devices; i++)
			seen = seen || strcmp(devices[i], device) == 0;
		if (seen || statvfs(mount, &st) != 0 || st.f_blocks == 0)
			continue;
		if (n_devices < MOUNTS_MAX)
			snprintf(devices[n_devices++], sizeof(devices[0]), "%s", device);
		snprintf(rooms[n].path, sizeof(rooms[n].path), "%s", mount);
		kf_text_sanitize(rooms[n].path, strlen(rooms[n].path));
		rooms[n].size = (double)st.f_blocks * (double)st.f_frsize;
		rooms[n].free = (double)st.f_bavail * (double)st.f_frsize;
		n++;
	}
	fclose(f);
	return n;
}

static void bytes_words(double bytes, char *out, size_t cap)
{
	if (bytes >= 1e9)
		snprintf(out, cap, "%.1f GB", bytes / 1e9);
	else if (bytes >= 1e6)
		snprintf(out, cap, "%.0f MB", bytes / 1e6);
	else
		snprintf(out, cap, "%.0f kB", bytes / 1e3);
}

/* The file system of /var/cache/apt, which the disk-full-reclaimable troubleshooter empties. */
static bool holds_package_cache(const char *mount)
{
	return strcmp(mount, "/") == 0 || strcmp(mount, "/var") == 0 ||
	       strcmp(mount, "/var/cache") == 0;
}

static void fill_rule(struct kf_watch_run *run, const struct mount_room *room)
{
	struct kf_watch_point *points;
	double slope, intercept, days;
	char rule[300], rate[32], left[32], size[32];
	size_t n;

	if (kf_watch_history(run, "fs-free", room->path, run->now - FIT_WINDOW, &points, &n) !=
	    KF_OK)
		return;
	/* The fit takes the history and this run's point. */
	{
		struct kf_watch_point *all = realloc(points, (n + 1) * sizeof(*all));

		if (all == NULL) {
			free(points);
			return;
		}
		points = all;
		points[n].time = run->now;
		points[n].value = room->free;
		n++;
	}
	if (n < MIN_POINTS || points[n - 1].time - points[0].time < MIN_SPAN ||
	    !kf_watch_fit_line(points, n, &slope, &intercept) || slope >= 0) {
		free(points);
		return;
	}
	free(points);
	days = room->free / (-slope * KF_WATCH_DAY);
	if (days > WARN_DAYS)
		return;
	if (snprintf(rule, sizeof(rule), "fs-filling:%s", room->path) >= (int)sizeof(rule))
		return;
	bytes_words(-slope * KF_WATCH_DAY, rate, sizeof(rate));
	bytes_words(room->free, left, sizeof(left));
	bytes_words(room->size, size, sizeof(size));
	kf_watch_find(run, rule, "filling", 1,
		      "Remove files you no longer need or move them elsewhere; "
		      "`kefu-agentd scan` finds room that can be freed safely.",
		      holds_package_cache(room->path) ? "disk-full-reclaimable/apt-cache" : NULL,
		      "the file system %s fills by about %s a day: at this rate it is full in "
		      "%.0f day%s (%s free of %s)",
		      room->path, rate, days < 1 ? 1.0 : days, days < 1.5 ? "" : "s", left, size);
}

void kf_watch_filesystems(struct kf_watch_run *run)
{
	struct mount_room rooms[MOUNTS_MAX];
	const char *seam = getenv("KEFU_WATCH_STATVFS");
	size_t n, i;

	if (seam != NULL && seam[0] != '\0')
		n = read_seam(seam, rooms, MOUNTS_MAX);
	else if (run->is_live)
		n = read_mounts(run, rooms, MOUNTS_MAX);
	else {
		kf_watch_note(run, "the file systems of a recorded tree are not measured");
		return;
	}
	for (i = 0; i < n; i++) {
		kf_watch_measure(run, "fs-size", rooms[i].path, rooms[i].size);
		kf_watch_measure(run, "fs-free", rooms[i].path, rooms[i].free);
		fill_rule(run, &rooms[i]);
	}
}
