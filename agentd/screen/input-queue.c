/* kefu-agentd: input for a desktop that must take it one event at a time.
 * SPDX-License-Identifier: MIT */
#include "agentd/screen/input-queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

/* Room beyond KF_INPUT_QUEUE_SIZE that only releases may use. */
#define CAPACITY (KF_INPUT_QUEUE_SIZE + KF_INPUT_MAX_DOWN)

struct held {
	enum kf_input_kind kind;
	unsigned code;
};

struct kf_input_queue {
	kf_input_deliver_fn deliver;
	void *user;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t pushed;    /* an event waits, or the queue stops */
	pthread_cond_t delivered; /* the thread is done with an event */
	struct kf_input_event ring[CAPACITY];
	int head, count;
	int is_delivering;
	int is_stopping;
	/* What was delivered pressed, or is being delivered: the delivering thread's view. */
	struct held down[KF_INPUT_MAX_DOWN];
	int down_count;
};

static int is_release(const struct kf_input_event *event)
{
	return (event->kind == KF_INPUT_BUTTON || event->kind == KF_INPUT_KEY) && !event->is_down;
}

static int held_index(const struct kf_input_queue *queue, const struct kf_input_event *event)
{
	for (int i = 0; i < queue->down_count; i++)
		if (queue->down[i].kind == event->kind && queue->down[i].code == event->code)
			return i;
	return -1;
}

/* With the lock held: whether event goes to the desktop; keeps what is held up to date. */
static int take(struct kf_input_queue *queue, const struct kf_input_event *event)
{
	if (event->kind != KF_INPUT_BUTTON && event->kind != KF_INPUT_KEY)
		return 1;
	int index = held_index(queue, event);
	if (event->is_down) {
		/* Held already (a viewer's auto-repeat: the desktop repeats on its own), or
		 * more held than could be let go of: not delivered. */
		if (index >= 0 || queue->down_count == KF_INPUT_MAX_DOWN)
			return 0;
		queue->down[queue->down_count++] = (struct held){event->kind, event->code};
		return 1;
	}
	if (index < 0)
		return 0;
	queue->down[index] = queue->down[--queue->down_count];
	return 1;
}

static void *deliver_in_order(void *arg)
{
	struct kf_input_queue *queue = arg;
	pthread_mutex_lock(&queue->lock);
	for (;;) {
		while (queue->count == 0 && !queue->is_stopping)
			pthread_cond_wait(&queue->pushed, &queue->lock);
		if (queue->is_stopping)
			break;
		struct kf_input_event event = queue->ring[queue->head];
		queue->head = (queue->head + 1) % CAPACITY;
		queue->count--;
		if (take(queue, &event)) {
			queue->is_delivering = 1;
			pthread_mutex_unlock(&queue->lock);
			queue->deliver(queue->user, &event);
			pthread_mutex_lock(&queue->lock);
			queue->is_delivering = 0;
		}
		/* Every event taken off the queue, delivered or not, may end a wait. */
		pthread_cond_broadcast(&queue->delivered);
	}
	pthread_mutex_unlock(&queue->lock);
	return NULL;
}

int kf_input_queue_start(struct kf_input_queue **out, kf_input_deliver_fn deliver, void *user,
			 struct kf_error *err)
{
	*out = NULL;
	struct kf_input_queue *queue = calloc(1, sizeof(*queue));
	if (queue == NULL)
		return kf_error_set(err, KF_ERR_NOMEM, "out of memory for the input queue");
	queue->deliver = deliver;
	queue->user = user;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&queue->lock, NULL);
	pthread_cond_init(&queue->pushed, NULL);
	pthread_cond_init(&queue->delivered, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&queue->thread, NULL, deliver_in_order, queue) != 0) {
		pthread_cond_destroy(&queue->delivered);
		pthread_cond_destroy(&queue->pushed);
		pthread_mutex_destroy(&queue->lock);
		free(queue);
		return kf_error_set(err, KF_ERR_IO, "cannot start the input thread");
	}
	*out = queue;
	return 0;
}

/* With the lock held. */
static void append(struct kf_input_queue *queue, const struct kf_input_event *event)
{
	queue->ring[(queue->head + queue->count) % CAPACITY] = *event;
	queue->count++;
	pthread_cond_signal(&queue->pushed);
}

int kf_input_queue_push(struct kf_input_queue *queue, const struct kf_input_event *event)
{
	int rc = 0;
	pthread_mutex_lock(&queue->lock);
	struct kf_input_event *last =
		queue->count > 0 ? &queue->ring[(queue->head + queue->count - 1) % CAPACITY] : NULL;
	if (event->kind == KF_INPUT_MOVE && last != NULL && last->kind == KF_INPUT_MOVE) {
		last->x = event->x;
		last->y = event->y;
	} else if (queue->count < (is_release(event) ? CAPACITY : KF_INPUT_QUEUE_SIZE)) {
		append(queue, event);
	} else {
		rc = KF_ERR_TOO_LARGE;
	}
	pthread_mutex_unlock(&queue->lock);
	return rc;
}

void kf_input_queue_release(struct kf_input_queue *queue, int timeout_ms)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&queue->lock);
	queue->count = 0;
	for (int i = 0; i < queue->down_count; i++)
		append(queue, &(struct kf_input_event){.kind = queue->down[i].kind,
						       .code = queue->down[i].code});
	while ((queue->count > 0 || queue->is_delivering) && !queue->is_stopping)
		if (pthread_cond_timedwait(&queue->delivered, &queue->lock, &deadline) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&queue->lock);
}

void kf_input_queue_free(struct kf_input_queue *queue)
{
	if (queue == NULL)
		return;
	pthread_mutex_lock(&queue->lock);
	queue->is_stopping = 1;
	queue->count = 0;
	pthread_cond_signal(&queue->pushed);
	pthread_mutex_unlock(&queue->lock);
	pthread_join(queue->thread, NULL);
	pthread_cond_destroy(&queue->delivered);
	pthread_cond_destroy(&queue->pushed);
	pthread_mutex_destroy(&queue->lock);
	free(queue);
}
