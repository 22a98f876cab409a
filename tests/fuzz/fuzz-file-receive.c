/* kefu: libFuzzer target for the agent's side of a "files" stream: header, bytes, the SHA-256
 * line after them. SPDX-License-Identifier: MIT */
#include "agentd/session/files.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A stream whose writes (the agent's answers) go nowhere. */
struct sink_stream {
	struct kf_stream stream;
	int is_closed;
};

static int sink_write(struct kf_stream *stream, const void *data, size_t len, struct kf_error *err)
{
	(void)stream;
	(void)data;
	(void)len;
	(void)err;
	return KF_OK;
}

static size_t sink_pending(const struct kf_stream *stream)
{
	(void)stream;
	return 0;
}

static void sink_read_pause(struct kf_stream *stream, int paused)
{
	(void)stream;
	(void)paused;
}

static void sink_shutdown(struct kf_stream *stream)
{
	(void)stream;
}

static void sink_close(struct kf_stream *stream)
{
	((struct sink_stream *)stream)->is_closed = 1;
}

static const struct kf_stream_ops sink_ops = {
	.write = sink_write,
	.pending = sink_pending,
	.read_pause = sink_read_pause,
	.shutdown = sink_shutdown,
	.close = sink_close,
};

static void on_done(struct kf_agent_file *file, int status, json_t *fields, void *user)
{
	(void)file;
	(void)status;
	(void)fields;
	(void)user;
}

static void on_closed(struct kf_agent_file *file, void *user)
{
	(void)file;
	*(int *)user = 1;
}

static char dir[64];

static void remove_dir(void)
{
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uv_loop_t loop;
	struct sink_stream end = {.stream = {.ops = &sink_ops}};
	struct kf_agent_file *file;
	char path[512];
	int is_freed = 0;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/kefu-fuzz-receive-XXXXXX");
		if (mkdtemp(dir) == NULL || uv_loop_init(&loop) != 0)
			abort();
		atexit(remove_dir);
	}
	file = kf_agent_file_serve(&end.stream, &loop, dir, on_done, on_closed, NULL, &is_freed);
	if (file == NULL)
		return 0;
	/* In two pieces, as a stream may deliver it, then the console's end. */
	if (size > 0)
		end.stream.on_read(&end.stream, data, size / 2 + 1 > size ? size : size / 2 + 1,
				   end.stream.user);
	if (!end.is_closed && size > size / 2 + 1)
		end.stream.on_read(&end.stream, data + size / 2 + 1, size - (size / 2 + 1),
				   end.stream.user);
	if (!end.is_closed)
		end.stream.on_end(&end.stream, KF_OK, NULL, end.stream.user);
	if (!is_freed)
		kf_agent_file_stop(file, "fuzzing");
	uv_run(&loop, UV_RUN_NOWAIT);
	/* What a lucky input saved under its name goes before the next one. */
	DIR *folder = opendir(dir);
	struct dirent *entry;

	while (folder != NULL && (entry = readdir(folder)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		unlink(path);
	}
	if (folder != NULL)
		closedir(folder);
	return 0;
}
