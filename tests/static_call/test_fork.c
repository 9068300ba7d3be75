/*
 * fork() and clone(): after fork each process has its own patched code, whichever
 * updates first, and whether the pages were patched before the fork or not; a child
 * of a raw clone() (no fork handlers run) gets its own pages at its first update; a
 * fork while another thread updates leaves the child able to call and update.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"

static int fork_t1(int x)
{
	return x + 1;
}

static int fork_t2(int x)
{
	return x + 2;
}

static int fork_t3(int x)
{
	return x + 3;
}

DEFINE_STATIC_CALL(sc_fork, fork_t1);
DEFINE_STATIC_CALL(sc_fork_busy, fork_t1);

__attribute__((noinline)) static int fork_call(int x)
{
	return static_call(sc_fork)(x) + 0 * x; /* a call site of its own */
}

static void xwrite(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(90);
}

/* One byte from the other process; 0 if it is gone. */
static char xread(int fd)
{
	char c = 0;

	if (read(fd, &c, 1) != 1)
		return 0;
	return c;
}

/*
 * The child updates first (the parent must not see it), then the parent (the child
 * must not see that). Exit status 0 from the child means what it saw was right.
 */
static void fork_both_ways(int first)
{
	int to_child[2], to_parent[2], st;
	pid_t pid;

	assert_int_equal(static_call_update(sc_fork, fork_t1), 0);
	assert_int_equal(fork_call(0), first);
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(to_parent), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(to_child[1]); /* so that a parent gone gives EOF, not a hang */
		close(to_parent[0]);
		if (fork_call(0) != 1)
			_exit(1);
		if (static_call_update(sc_fork, fork_t2) || fork_call(0) != 2)
			_exit(2);
		xwrite(to_parent[1], 'u');
		if (xread(to_child[0]) != 'p') /* the parent has updated */
			_exit(5);
		if (fork_call(0) != 2 || static_call(sc_fork)(0) != 2)
			_exit(3);
		if (static_call_update(sc_fork, fork_t1) || fork_call(0) != 1)
			_exit(4);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	assert_int_equal(xread(to_parent[0]), 'u');
	assert_int_equal(fork_call(0), 1); /* the child's update is the child's */
	assert_int_equal(static_call(sc_fork)(0), 1);
	assert_int_equal(static_call_update(sc_fork, fork_t3), 0);
	assert_int_equal(fork_call(0), 3);
	xwrite(to_child[1], 'p');
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(fork_call(0), 3);
	close(to_child[1]);
	close(to_parent[0]);
}

void test_fork_private(void **state)
{
	(void)state;
	fork_both_ways(1);
	assert_int_equal(static_call_update(sc_fork, fork_t1), 0);
}

/* Again from the parent that already copied its pages once, and a grandchild. */
void test_fork_twice(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	fork_both_ways(1);
	assert_int_equal(static_call_update(sc_fork, fork_t1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pid_t grandchild;

		if (static_call_update(sc_fork, fork_t2) || fork_call(0) != 2)
			_exit(1);
		grandchild = fork();
		if (grandchild < 0)
			_exit(2);
		if (grandchild == 0) {
			if (fork_call(0) != 2 || static_call_update(sc_fork, fork_t3) ||
			    fork_call(0) != 3)
				_exit(3);
			_exit(0);
		}
		if (waitpid(grandchild, &st, 0) != grandchild || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			_exit(4);
		_exit(fork_call(0) == 2 ? 0 : 5);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(fork_call(0), 1);
	assert_int_equal(static_call_update(sc_fork, fork_t1), 0);
}

/* A raw clone() runs no fork handlers: the child's first update still makes its
 * pages its own (it notices its pid), so the parent is unaffected. */
void test_raw_clone_child(void **state)
{
	long pid;
	int st;

	(void)state;
	assert_int_equal(static_call_update(sc_fork, fork_t1), 0);
	pid = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
	assert_true(pid >= 0);
	if (pid == 0) {
		if (static_call_update(sc_fork, fork_t2) || fork_call(0) != 2)
			syscall(SYS_exit_group, 1);
		syscall(SYS_exit_group, 0);
	}
	assert_int_equal(waitpid((pid_t)pid, &st, 0), (pid_t)pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(fork_call(0), 1);
	assert_int_equal(static_call(sc_fork)(0), 1);
}

static int busy_stop;

static void *busy_updater(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; !__atomic_load_n(&busy_stop, __ATOMIC_ACQUIRE); i++)
		if (static_call_update(sc_fork_busy, (i & 1) ? fork_t1 : fork_t2))
			return (void *)1;
	return NULL;
}

/* fork() while another thread updates: the child is never left with the update lock
 * held or a half-written trampoline. */
void test_fork_while_updating(void **state)
{
	pthread_t t;
	void *ret;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, busy_updater, NULL), 0);
	for (int i = 0; i < 8; i++) {
		int st;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			int r = static_call(sc_fork_busy)(0);

			if (r != 1 && r != 2)
				_exit(1);
			if (static_call_update(sc_fork_busy, fork_t3) || static_call(sc_fork_busy)(0) != 3)
				_exit(2);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	__atomic_store_n(&busy_stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	assert_true(static_call(sc_fork_busy)(0) == 1 || static_call(sc_fork_busy)(0) == 2);
}
