/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwd.h - what the reference forwarders (tapfwd.c, afpfwd.c) share: the
 * stop flag and its signal handler, running one blocking thread per
 * direction until SIGINT/SIGTERM, and the counters line. Header-only, so
 * each forwarder still builds from its one .c file.
 */
#ifndef NETBE_BENCH_FWD_H
#define NETBE_BENCH_FWD_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

static volatile sig_atomic_t stop;

/** on_signal() - ask every loop to end. Return: nothing. */
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/** join_interrupting() - interrupt thread @t's blocking call with SIGUSR1
 * (on_signal must handle it) until the thread has ended; a signal landing
 * just before the call would be missed once. Return: nothing. */
static void join_interrupting(pthread_t t)
{
	struct timespec ts;

	do {
		pthread_kill(t, SIGUSR1);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
	} while (pthread_timedjoin_np(t, NULL, &ts) != 0);
}

/** run_threads() - run @pump(@ab) and @pump(@ba) on a thread each. The
 * threads inherit SIGINT/SIGTERM blocked, so this thread takes them in
 * sigwait() and then stops the threads. Return: nothing. */
static void run_threads(void *(*pump)(void *), void *ab, void *ba)
{
	sigset_t set;
	pthread_t t[2];
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_create(&t[0], NULL, pump, ab);
	pthread_create(&t[1], NULL, pump, ba);
	sigwait(&set, &sig);
	stop = 1;
	join_interrupting(t[0]);
	join_interrupting(t[1]);
}

/** report() - one direction's counters, named @name, on stderr.
 * Return: nothing. */
static void report(const char *name, unsigned long long frames,
		   unsigned long long bytes, unsigned long long dropped)
{
	fprintf(stderr, "%s frames=%llu bytes=%llu dropped=%llu\n", name,
		frames, bytes, dropped);
}

#endif
