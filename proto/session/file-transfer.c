/* kefu: files through a session's "files" stream: header lines, receiving, sending.
 * SPDX-License-Identifier: MIT */
#include "proto/session/file-transfer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Where O_TMPFILE is missing, a file on its way is a hidden file named with the
 * receiver's process id, so that a later receiver can tell one whose process
 * is gone (killed mid-transfer) and remove it.
 */
#define RECEIVING_PREFIX ".kefu-receiving-"

#define CHUNK (64 * 1024)
/*
 * A pump reads this much at a time: a quarter of the number of system calls of
 * 64 KiB reads, and still one KF_STREAM_HIGH_WATER, so that what is queued stays
 * where it was.
 */
#define PUMP_CHUNK (256 * 1024)

int kf_file_line_take(struct kf_file_line *state, const uint8_t *data, size_t len, json_t **line,
		      struct kf_error *err)
{
	const uint8_t *end = memchr(data, '\n', len);
	size_t take = end != NULL ? (size_t)(end - data) + 1 : len;
	json_error_t jerr;

	*line = NULL;
	if (state->len + take > KF_FILE_HEADER_MAX)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "a header line longer than %d bytes",
				    KF_FILE_HEADER_MAX);
	memcpy(state->text + state->len, data, take);
	state->len += take;
	if (end == NULL)
		return (int)take;
	state->text[state->len - 1] = '\0';
	*line = json_loads(state->text, JSON_REJECT_DUPLICATES, &jerr);
	if (*line == NULL || !json_is_object(*line)) {
		json_decref(*line);
		*line = NULL;
		return kf_error_set(err, KF_ERR_INVALID, "a header line that is not a JSON object");
	}
	return (int)take;
}

int kf_file_line_send(struct kf_stream *stream, json_t *object, struct kf_error *err)
{
	char *text = json_dumps(object, JSON_COMPACT);
	int r;

	if (text == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	r = kf_stream_write(stream, text, strlen(text), err);
	if (r == KF_OK)
		r = kf_stream_write(stream, "\n", 1, err);
	free(text);
	return r;
}

bool kf_file_name_is_safe(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > KF_FILE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (const unsigned char *c = (const unsigned char *)name; *c != '\0'; c++)
		if (*c == '/' || *c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

static void to_hex(const unsigned char *digest, char hex[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

int kf_file_hash_fd(int fd, char hex[65], uint64_t *size, struct kf_error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *buf = malloc(CHUNK), digest[32];
	uint64_t total = 0;
	int r = KF_OK;

	if (md == NULL || buf == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		r = kf_error_set(err, KF_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, CHUNK, (off_t)total);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = kf_error_set(err, KF_ERR_IO, "cannot read the file: %s",
					 strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		total += (uint64_t)n;
	}
	EVP_DigestFinal_ex(md, digest, NULL);
	to_hex(digest, hex);
	*size = total;
out:
	EVP_MD_CTX_free(md);
	free(buf);
	return r;
}

static bool is_sha256_hex(const char *text)
{
	return strlen(text) == 64 && strspn(text, "0123456789abcdef") == 64;
}

/* A block of received bytes on its way to the sink's thread. */
struct sink_block {
	struct sink_block *next;
	size_t len;
	uint8_t data[KF_FILE_SINK_BLOCK];
};

/* What the loop's thread and the sink's thread share, under lock. */
struct sink_thread {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* a block waits, or the sink is freed */
	pthread_cond_t drained; /* the queue went empty */
	struct sink_block *head, *tail;
	struct sink_block *spare; /* one written block kept for reuse */
	size_t queued;            /* bytes in head..tail and in the block being written */
	int error;                /* errno of a failed write, then nothing more is written */
	bool is_stopping;
	bool is_room_wanted; /* the loop's thread was told "full" and waits for on_room */
	uint64_t written;    /* offset of the next block */
	uv_async_t *room;    /* its own allocation: libuv holds it until closed */
	void (*on_room)(void *user);
	void *user;
};

struct kf_file_sink {
	int fd;
	char dir[PATH_MAX];
	char temp[PATH_MAX + 32]; /* the hidden file where O_TMPFILE is missing, else "" */
	char name[KF_FILE_NAME_MAX + 1];
	char sha256[65]; /* "" until known */
	uint64_t size, received;
	EVP_MD_CTX *md; /* the sink's thread's while it runs */
	struct sink_thread *thread;
	struct sink_block *filling; /* the loop thread's block being filled */
};

int kf_file_sink_new(const char *dir, const char *name, uint64_t size, const char *sha256,
		     struct kf_file_sink **out, struct kf_error *err)
{
	struct kf_file_sink *sink;

	*out = NULL;
	if (!kf_file_name_is_safe(name))
		return kf_error_set(err, KF_ERR_INVALID, "not a plain file name");
	if (size > KF_FILE_MAX_SIZE)
		return kf_error_set(err, KF_ERR_TOO_LARGE, "larger than %llu MiB",
				    KF_FILE_MAX_SIZE >> 20);
	if (sha256 != NULL && !is_sha256_hex(sha256))
		return kf_error_set(err, KF_ERR_INVALID, "no SHA-256 for the file");
	sink = calloc(1, sizeof(*sink));
	if (sink == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	sink->fd = -1;
	snprintf(sink->dir, sizeof(sink->dir), "%s", dir);
	snprintf(sink->name, sizeof(sink->name), "%s", name);
	if (sha256 != NULL)
		memcpy(sink->sha256, sha256, 65);
	sink->size = size;
	sink->md = EVP_MD_CTX_new();
	if (sink->md == NULL || EVP_DigestInit_ex(sink->md, EVP_sha256(), NULL) != 1) {
		kf_file_sink_free(sink);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	/*
	 * An unnamed file in dir: if the receiver dies mid-transfer (kill -9, a
	 * crash, the power), the kernel frees it and nothing is left behind. It gets
	 * its name only once whole and checked.
	 */
	sink->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (sink->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* A file system without O_TMPFILE: a hidden file, swept up if we die. */
		kf_file_sink_sweep(dir);
		snprintf(sink->temp, sizeof(sink->temp), "%s/" RECEIVING_PREFIX "%ld-XXXXXX", dir,
			 (long)getpid());
		sink->fd = mkostemp(sink->temp, O_CLOEXEC);
		if (sink->fd < 0)
			sink->temp[0] = '\0';
	}
	if (sink->fd < 0) {
		int saved = errno;

		sink->temp[0] = '\0';
		kf_file_sink_free(sink);
		return kf_error_set(err, KF_ERR_IO, "cannot write in %s: %s", dir, strerror(saved));
	}
	*out = sink;
	return KF_OK;
}

static void *sink_thread_main(void *arg)
{
	struct kf_file_sink *sink = arg;
	struct sink_thread *t = sink->thread;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		struct sink_block *block;
		uint64_t offset;
		int error = 0;

		while (t->head == NULL && !t->is_stopping)
			pthread_cond_wait(&t->wake, &t->lock);
		if (t->head == NULL)
			break;
		block = t->head;
		t->head = block->next;
		if (t->head == NULL)
			t->tail = NULL;
		offset = t->written;
		t->written += block->len;
		if (t->error == 0) {
			pthread_mutex_unlock(&t->lock);
			EVP_DigestUpdate(sink->md, block->data, block->len);
			for (size_t done = 0; done < block->len;) {
				ssize_t n = pwrite(sink->fd, block->data + done, block->len - done,
						   (off_t)(offset + done));

				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					error = errno;
					break;
				}
				done += (size_t)n;
			}
			/* Write-back starts now rather than all at the final sync. */
			if (error == 0)
				sync_file_range(sink->fd, (off_t)offset, (off_t)block->len,
						SYNC_FILE_RANGE_WRITE);
			pthread_mutex_lock(&t->lock);
			if (error != 0 && t->error == 0)
				t->error = error;
		}
		t->queued -= block->len;
		if (t->spare == NULL)
			t->spare = block;
		else
			free(block);
		if (t->queued == 0)
			pthread_cond_signal(&t->drained);
		if (t->is_room_wanted && t->queued <= KF_FILE_SINK_QUEUED / 2) {
			t->is_room_wanted = false;
			uv_async_send(t->room);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void on_room(uv_async_t *async)
{
	struct sink_thread *t = async->data;

	if (t != NULL && t->on_room != NULL)
		t->on_room(t->user);
}

static void free_handle(uv_handle_t *handle)
{
	free(handle);
}

int kf_file_sink_use_thread(struct kf_file_sink *sink, uv_loop_t *loop, void (*room)(void *user),
			    void *user, struct kf_error *err)
{
	struct sink_thread *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->room = calloc(1, sizeof(*t->room))) == NULL) {
		free(t);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	if (uv_async_init(loop, t->room, on_room) != 0) {
		free(t->room);
		free(t);
		return kf_error_set(err, KF_ERR_NOMEM, "cannot wake the loop");
	}
	t->room->data = t;
	t->on_room = room;
	t->user = user;
	t->written = sink->received;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	pthread_cond_init(&t->drained, NULL);
	sink->thread = t;
	if (pthread_create(&t->thread, NULL, sink_thread_main, sink) != 0) {
		sink->thread = NULL;
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->wake);
		pthread_cond_destroy(&t->drained);
		t->room->data = NULL;
		uv_close((uv_handle_t *)t->room, free_handle);
		free(t);
		return kf_error_set(err, KF_ERR_NOMEM, "cannot start a thread");
	}
	return KF_OK;
}

bool kf_file_sink_is_full(const struct kf_file_sink *sink)
{
	struct sink_thread *t = sink->thread;
	bool is_full;

	if (t == NULL)
		return false;
	pthread_mutex_lock(&t->lock);
	is_full = t->queued >= KF_FILE_SINK_QUEUED;
	if (is_full)
		t->is_room_wanted = true;
	pthread_mutex_unlock(&t->lock);
	return is_full;
}

/* Hands the block being filled to the sink's thread. */
static void submit(struct kf_file_sink *sink)
{
	struct sink_thread *t = sink->thread;
	struct sink_block *block = sink->filling;

	if (block == NULL || block->len == 0)
		return;
	sink->filling = NULL;
	pthread_mutex_lock(&t->lock);
	block->next = NULL;
	if (t->tail != NULL)
		t->tail->next = block;
	else
		t->head = block;
	t->tail = block;
	t->queued += block->len;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
}

static int thread_write(struct kf_file_sink *sink, const uint8_t *data, size_t len,
			struct kf_error *err)
{
	struct sink_thread *t = sink->thread;
	int error;

	pthread_mutex_lock(&t->lock);
	error = t->error;
	pthread_mutex_unlock(&t->lock);
	if (error != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot write the file: %s", strerror(error));
	while (len > 0) {
		size_t room, take;

		if (sink->filling == NULL) {
			pthread_mutex_lock(&t->lock);
			sink->filling = t->spare;
			t->spare = NULL;
			pthread_mutex_unlock(&t->lock);
			if (sink->filling == NULL &&
			    (sink->filling = malloc(sizeof(*sink->filling))) == NULL)
				return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
			sink->filling->len = 0;
		}
		room = KF_FILE_SINK_BLOCK - sink->filling->len;
		take = len < room ? len : room;
		memcpy(sink->filling->data + sink->filling->len, data, take);
		sink->filling->len += take;
		sink->received += take;
		data += take;
		len -= take;
		if (sink->filling->len == KF_FILE_SINK_BLOCK)
			submit(sink);
	}
	return KF_OK;
}

/* Waits until the sink's thread wrote and hashed everything; returns its errno or 0. */
static int thread_drain(struct kf_file_sink *sink)
{
	struct sink_thread *t = sink->thread;
	int error;

	submit(sink);
	pthread_mutex_lock(&t->lock);
	while (t->queued > 0)
		pthread_cond_wait(&t->drained, &t->lock);
	error = t->error;
	pthread_mutex_unlock(&t->lock);
	return error;
}

/* Stops the sink's thread; what it had not written is dropped. */
static void thread_stop(struct kf_file_sink *sink)
{
	struct sink_thread *t = sink->thread;

	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	t->is_stopping = true;
	/* A block already taken is finished; the rest is not worth writing. */
	while (t->head != NULL) {
		struct sink_block *next = t->head->next;

		t->queued -= t->head->len;
		free(t->head);
		t->head = next;
	}
	t->tail = NULL;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	free(t->spare);
	free(sink->filling);
	sink->filling = NULL;
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
	pthread_cond_destroy(&t->drained);
	t->room->data = NULL;
	uv_close((uv_handle_t *)t->room, free_handle);
	free(t);
	sink->thread = NULL;
}

int kf_file_sink_write(struct kf_file_sink *sink, const uint8_t *data, size_t len,
		       struct kf_error *err)
{
	if (len > sink->size - sink->received)
		return kf_error_set(err, KF_ERR_INVALID, "more bytes than the %llu announced",
				    (unsigned long long)sink->size);
	if (sink->thread != NULL)
		return thread_write(sink, data, len, err);
	EVP_DigestUpdate(sink->md, data, len);
	while (len > 0) {
		ssize_t n = write(sink->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kf_error_set(err, KF_ERR_IO, "cannot write the file: %s",
					    strerror(errno));
		data += n;
		len -= (size_t)n;
		sink->received += (uint64_t)n;
	}
	return KF_OK;
}

bool kf_file_sink_is_complete(const struct kf_file_sink *sink)
{
	return sink->received == sink->size;
}

uint64_t kf_file_sink_missing(const struct kf_file_sink *sink)
{
	return sink->size - sink->received;
}

int kf_file_sink_expect(struct kf_file_sink *sink, const char *sha256, struct kf_error *err)
{
	if (sha256 == NULL || !is_sha256_hex(sha256))
		return kf_error_set(err, KF_ERR_INVALID, "no SHA-256 for the file");
	memcpy(sink->sha256, sha256, 65);
	return KF_OK;
}

/* Gives the received file the name path; fails with EEXIST when it is taken. */
static int link_under(struct kf_file_sink *sink, const char *path)
{
	char self[64];

	if (sink->temp[0] != '\0')
		return link(sink->temp, path);
	/* The unnamed file through /proc; without /proc, AT_EMPTY_PATH (needs privilege). */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", sink->fd);
	if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return linkat(sink->fd, "", AT_FDCWD, path, AT_EMPTY_PATH);
}

void kf_file_sink_sweep(const char *dir)
{
	DIR *folder = opendir(dir);
	struct dirent *entry;
	char path[PATH_MAX];

	if (folder == NULL)
		return;
	while ((entry = readdir(folder)) != NULL) {
		const char *rest;
		char *end;
		long pid;

		if (strncmp(entry->d_name, RECEIVING_PREFIX, strlen(RECEIVING_PREFIX)) != 0)
			continue;
		rest = entry->d_name + strlen(RECEIVING_PREFIX);
		pid = strtol(rest, &end, 10);
		/* Named by an older receiver (no process id), or by a process that is gone. */
		if (end != rest && *end == '-' && pid > 0 &&
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name) <
		    sizeof(path))
			unlink(path);
	}
	closedir(folder);
}

int kf_file_sink_finish(struct kf_file_sink *sink, char *path, size_t path_size,
			struct kf_error *err)
{
	unsigned char digest[32];
	char hex[65], base[KF_FILE_NAME_MAX + 1], ext[KF_FILE_NAME_MAX + 1];
	const char *dot;

	if (!kf_file_sink_is_complete(sink))
		return kf_error_set(err, KF_ERR_CLOSED, "the file ended after %llu of %llu bytes",
				    (unsigned long long)sink->received,
				    (unsigned long long)sink->size);
	if (sink->sha256[0] == '\0')
		return kf_error_set(err, KF_ERR_INVALID, "no SHA-256 for the file");
	if (sink->thread != NULL) {
		int error = thread_drain(sink);

		thread_stop(sink);
		if (error != 0)
			return kf_error_set(err, KF_ERR_IO, "cannot write the file: %s",
					    strerror(error));
	}
	EVP_DigestFinal_ex(sink->md, digest, NULL);
	to_hex(digest, hex);
	if (strcmp(hex, sink->sha256) != 0)
		return kf_error_set(err, KF_ERR_AUTH, "the file arrived changed (SHA-256 differs)");
	if (fsync(sink->fd) != 0 || fchmod(sink->fd, 0600) != 0)
		return kf_error_set(err, KF_ERR_IO, "cannot write the file: %s", strerror(errno));
	/* "report.pdf", then "report (2).pdf", ...: link() never replaces a file. */
	dot = strrchr(sink->name, '.');
	snprintf(base, sizeof(base), "%.*s",
		 (int)(dot ? dot - sink->name : (long)strlen(sink->name)), sink->name);
	snprintf(ext, sizeof(ext), "%s", dot ? dot : "");
	for (int n = 1; n <= 100; n++) {
		int len =
			n == 1 ? snprintf(path, path_size, "%s/%s", sink->dir, sink->name)
			       : snprintf(path, path_size, "%s/%s (%d)%s", sink->dir, base, n, ext);

		if (len >= (int)path_size)
			break;
		if (link_under(sink, path) == 0) {
			if (sink->temp[0] != '\0')
				unlink(sink->temp);
			sink->temp[0] = '\0';
			return KF_OK;
		}
		if (errno != EEXIST)
			return kf_error_set(err, KF_ERR_IO, "cannot name the file: %s",
					    strerror(errno));
	}
	return kf_error_set(err, KF_ERR_IO, "no free name for %s in %s", sink->name, sink->dir);
}

void kf_file_sink_free(struct kf_file_sink *sink)
{
	if (sink == NULL)
		return;
	thread_stop(sink);
	if (sink->fd >= 0)
		close(sink->fd);
	if (sink->temp[0] != '\0')
		unlink(sink->temp);
	EVP_MD_CTX_free(sink->md);
	free(sink);
}

/* What the loop's thread and a pump's reading thread share, under lock. */
struct pump_thread {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t room;            /* a block was sent, or the pump is freed */
	struct sink_block *head, *tail; /* read, hashed, waiting to be sent */
	struct sink_block *spare;
	size_t ready; /* bytes in head..tail */
	uint64_t read;
	const char *failure; /* why reading stopped early, or NULL */
	int error;           /* its errno, or 0 */
	bool is_finished;    /* nothing more will be read */
	bool is_stopping;
	bool is_ready_wanted; /* the loop's thread waits for a block */
	uv_async_t *wake;     /* its own allocation: libuv holds it until closed */
};

struct kf_file_pump {
	struct kf_stream *stream;
	int fd;
	uint64_t size, sent;
	void (*done)(void *user, int status, const char *message);
	void *user;
	int is_done;
	EVP_MD_CTX *md; /* NULL: not hashing; the reading thread's while it runs */
	char sha256[65];
	unsigned char *buf;
	struct pump_thread *thread;
	size_t block_sent; /* of the block at the head of the thread's queue */
};

static void *pump_thread_main(void *arg)
{
	struct kf_file_pump *p = arg;
	struct pump_thread *t = p->thread;

	pthread_mutex_lock(&t->lock);
	while (!t->is_stopping && !t->is_finished) {
		struct sink_block *block;
		uint64_t offset = t->read;
		size_t want = p->size - offset < KF_FILE_SINK_BLOCK ? (size_t)(p->size - offset)
								    : KF_FILE_SINK_BLOCK;
		const char *failure = NULL;
		int error = 0;

		if (t->ready >= KF_FILE_SINK_QUEUED) {
			pthread_cond_wait(&t->room, &t->lock);
			continue;
		}
		block = t->spare;
		t->spare = NULL;
		pthread_mutex_unlock(&t->lock);
		if (block == NULL)
			block = malloc(sizeof(*block));
		if (block == NULL) {
			failure = "out of memory";
		} else {
			block->len = 0;
			while (block->len < want) {
				ssize_t n = pread(p->fd, block->data + block->len,
						  want - block->len, (off_t)(offset + block->len));

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					error = n < 0 ? errno : 0;
					failure = "the file became shorter while it was sent";
					break;
				}
				block->len += (size_t)n;
			}
			/* Hashed as read: the SHA-256 covers exactly the bytes that go out. */
			if (failure == NULL && p->md != NULL) {
				EVP_DigestUpdate(p->md, block->data, block->len);
				if (offset + block->len == p->size) {
					unsigned char digest[32];

					EVP_DigestFinal_ex(p->md, digest, NULL);
					to_hex(digest, p->sha256);
				}
			}
		}
		pthread_mutex_lock(&t->lock);
		if (failure != NULL) {
			free(block);
			t->failure = failure;
			t->error = error;
			t->is_finished = true;
		} else if (block->len > 0) {
			block->next = NULL;
			if (t->tail != NULL)
				t->tail->next = block;
			else
				t->head = block;
			t->tail = block;
			t->ready += block->len;
			t->read += block->len;
			t->is_finished = t->read == p->size;
		} else {
			free(block); /* an empty file */
			t->is_finished = true;
		}
		if (t->is_ready_wanted) {
			t->is_ready_wanted = false;
			uv_async_send(t->wake);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void pump(struct kf_file_pump *p);

static void on_pump_wake(uv_async_t *async)
{
	if (async->data != NULL)
		pump(async->data);
}

static int pump_thread_start(struct kf_file_pump *p, uv_loop_t *loop, struct kf_error *err)
{
	struct pump_thread *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->wake = calloc(1, sizeof(*t->wake))) == NULL) {
		free(t);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	if (uv_async_init(loop, t->wake, on_pump_wake) != 0) {
		free(t->wake);
		free(t);
		return kf_error_set(err, KF_ERR_NOMEM, "cannot wake the loop");
	}
	t->wake->data = p;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->room, NULL);
	p->thread = t;
	if (pthread_create(&t->thread, NULL, pump_thread_main, p) != 0) {
		p->thread = NULL;
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->room);
		t->wake->data = NULL;
		uv_close((uv_handle_t *)t->wake, free_handle);
		free(t);
		return kf_error_set(err, KF_ERR_NOMEM, "cannot start a thread");
	}
	return KF_OK;
}

static void pump_thread_stop(struct kf_file_pump *p)
{
	struct pump_thread *t = p->thread;

	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	t->is_stopping = true;
	pthread_cond_signal(&t->room);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	while (t->head != NULL) {
		struct sink_block *next = t->head->next;

		free(t->head);
		t->head = next;
	}
	free(t->spare);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->room);
	t->wake->data = NULL;
	uv_close((uv_handle_t *)t->wake, free_handle);
	free(t);
	p->thread = NULL;
}

/* Sends what the reading thread has ready; returns once the stream is full or nothing is. */
static void pump_from_thread(struct kf_file_pump *p)
{
	struct pump_thread *t = p->thread;

	while (!p->is_done && kf_stream_pending(p->stream) < KF_STREAM_HIGH_WATER) {
		struct sink_block *block;
		size_t slice;

		pthread_mutex_lock(&t->lock);
		block = t->head;
		if (block == NULL) {
			bool is_finished = t->is_finished;
			const char *failure = t->failure;
			char reason[256];

			if (failure != NULL)
				snprintf(reason, sizeof(reason), "%s",
					 t->error != 0 ? strerror(t->error) : failure);
			if (!is_finished)
				t->is_ready_wanted = true;
			pthread_mutex_unlock(&t->lock);
			if (!is_finished)
				return;
			p->is_done = 1;
			if (failure != NULL)
				p->done(p->user, KF_ERR_IO, reason);
			else
				p->done(p->user, KF_OK, NULL);
			return;
		}
		pthread_mutex_unlock(&t->lock);
		/* The block is the loop thread's until it leaves the queue. */
		slice = block->len - p->block_sent < PUMP_CHUNK ? block->len - p->block_sent
								: PUMP_CHUNK;
		if (kf_stream_write(p->stream, block->data + p->block_sent, slice, NULL) != KF_OK) {
			p->is_done = 1;
			p->done(p->user, KF_ERR_CLOSED, "the stream closed");
			return;
		}
		p->block_sent += slice;
		p->sent += slice;
		if (p->block_sent < block->len)
			continue;
		p->block_sent = 0;
		pthread_mutex_lock(&t->lock);
		t->head = block->next;
		if (t->head == NULL)
			t->tail = NULL;
		t->ready -= block->len;
		if (t->spare == NULL)
			t->spare = block;
		else
			free(block);
		pthread_cond_signal(&t->room);
		pthread_mutex_unlock(&t->lock);
	}
}

static void pump(struct kf_file_pump *p)
{
	if (p->thread != NULL) {
		pump_from_thread(p);
		return;
	}
	while (!p->is_done && kf_stream_pending(p->stream) < KF_STREAM_HIGH_WATER) {
		size_t want =
			p->size - p->sent < PUMP_CHUNK ? (size_t)(p->size - p->sent) : PUMP_CHUNK;
		unsigned char *buf = p->buf;
		ssize_t n;

		if (want == 0) {
			if (p->md != NULL) {
				unsigned char digest[32];

				EVP_DigestFinal_ex(p->md, digest, NULL);
				to_hex(digest, p->sha256);
			}
			p->is_done = 1;
			p->done(p->user, KF_OK, NULL);
			return;
		}
		n = pread(p->fd, buf, want, (off_t)p->sent);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			p->is_done = 1;
			p->done(p->user, KF_ERR_IO,
				n < 0 ? strerror(errno)
				      : "the file became shorter while it was sent");
			return;
		}
		/* Hashed as read: the SHA-256 covers exactly the bytes that go out. */
		if (p->md != NULL)
			EVP_DigestUpdate(p->md, buf, (size_t)n);
		if (kf_stream_write(p->stream, buf, (size_t)n, NULL) != KF_OK) {
			p->is_done = 1;
			p->done(p->user, KF_ERR_CLOSED, "the stream closed");
			return;
		}
		p->sent += (uint64_t)n;
	}
}

int kf_file_pump_start(struct kf_stream *stream, int fd, uint64_t size, bool is_hashing,
		       uv_loop_t *loop, void (*done)(void *user, int status, const char *message),
		       void *user, struct kf_file_pump **out, struct kf_error *err)
{
	struct kf_file_pump *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	p->stream = stream;
	p->fd = fd;
	p->size = size;
	p->done = done;
	p->user = user;
	p->buf = malloc(PUMP_CHUNK);
	if (is_hashing)
		p->md = EVP_MD_CTX_new();
	if (p->buf == NULL ||
	    (is_hashing && (p->md == NULL || EVP_DigestInit_ex(p->md, EVP_sha256(), NULL) != 1))) {
		kf_file_pump_free(p);
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory");
	}
	/* Without a thread the same work runs in this one. */
	if (loop != NULL)
		pump_thread_start(p, loop, NULL);
	*out = p;
	pump(p);
	return KF_OK;
}

void kf_file_pump_drained(struct kf_file_pump *pump_)
{
	if (pump_ != NULL)
		pump(pump_);
}

const char *kf_file_pump_sha256(const struct kf_file_pump *p)
{
	return p != NULL && p->sha256[0] != '\0' ? p->sha256 : NULL;
}

void kf_file_pump_free(struct kf_file_pump *p)
{
	if (p == NULL)
		return;
	pump_thread_stop(p);
	EVP_MD_CTX_free(p->md);
	free(p->buf);
	free(p);
}
