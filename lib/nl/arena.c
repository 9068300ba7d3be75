/*
 * Arenas: where decoded value trees live. A decode carves every list, value
 * and byte string of one message's tree from a few chunks (sized from the
 * message), and the root frees them together. Each thread keeps its last
 * freed chunk for the next decode, so a request/reply loop decodes without
 * calling malloc. Depends on nothing else in lib/nl.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "nl_internal.h"

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

/*
 * Each thread keeps the last freed chunk (up to SPARE_MAX bytes) for the
 * next decode: a request/reply loop then decodes without touching malloc.
 * The chunk is released when the thread exits (a pthread key destructor);
 * the main thread's stays reachable from its TLS until the process ends.
 */
#define SPARE_MAX 65536

/* initial-exec: reached without __tls_get_addr (the library is linked, not
 * dlopen()ed late, and needs only one pointer of static TLS). */
static __thread struct arena_chunk *spare __attribute__((tls_model("initial-exec")));
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spare_release(void *chunk)
{
	free(chunk);
}

static void spare_key_init(void)
{
	if (pthread_key_create(&spare_key, spare_release))
		spare_key = (pthread_key_t)-1;
}

/* Keep @c as this thread's spare, or free it. */
static void spare_put(struct arena_chunk *c)
{
	if (c->size > SPARE_MAX || (spare && spare->size >= c->size)) {
		free(c);
		return;
	}
	pthread_once(&spare_once, spare_key_init);
	if (spare_key == (pthread_key_t)-1) {
		free(c);
		return;
	}
	free(spare);
	spare = c;
	pthread_setspecific(spare_key, c);
}

/* A chunk of at least @size bytes: the spare if it is big enough. */
static struct arena_chunk *chunk_get(size_t size)
{
	struct arena_chunk *c = spare;

	if (c && c->size >= size) {
		spare = NULL;
		pthread_setspecific(spare_key, NULL);
		return c;
	}
	c = malloc(sizeof(*c) + size);
	if (c)
		c->size = size;
	return c;
}

/* emnl_arena_alloc - @size bytes from the arena at *@head (NULL: none yet),
 * adding a chunk of at least @hint bytes when the current one is full. */
void *emnl_arena_alloc(void **head, size_t size, size_t hint)
{
	struct arena_chunk *c = *head;
	void *p;

	size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (!c || c->size - c->used < size) {
		size_t cs = size > hint ? size : hint;

		c = chunk_get(cs);
		if (!c)
			return NULL;
		c->next = *head;
		c->used = 0;
		*head = c;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

/* emnl_arena_free - release every chunk. */
void emnl_arena_free(void *head)
{
	struct arena_chunk *c = head;

	while (c) {
		struct arena_chunk *next = c->next;

		spare_put(c);
		c = next;
	}
}

