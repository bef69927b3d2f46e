/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * faults.h - fault injection (loss, delay with jitter, reordering,
 * duplication, corruption) between the frontend and the backend, per
 * direction. netbe.c sends a direction's frames here only while
 * be->core->fault_on[dir] is set: one predictable branch when off.
 */
#ifndef NETBE_FAULTS_H
#define NETBE_FAULTS_H

#include <sys/types.h>

#include "backend.h"

/**
 * faults_from_spec() - read the common keys tx_loss=, ..., rx_corrupt=
 * and fault_seed= of @s into @be (at open, before the backend opens)
 * Return: 0, or -EINVAL naming the key and its range, or -ENOMEM.
 */
int faults_from_spec(struct netbe *be, const struct netbe_spec *s);

/**
 * faults_tx_burst() - netbe_send_burst() while tx faults are on: drop,
 * queue (delay, reorder, dup, corrupt) or pass each frame, then send what
 * is due. Takes tx_lock.
 * Return: frames consumed from the front of @f; -EAGAIN when none could
 * be taken (tx_cb follows); another -errno from the backend.
 */
int faults_tx_burst(struct netbe *be, struct netbe_frame *f, unsigned n);

/**
 * faults_tx_ready() - the backend may take frames again: send the due
 * queued ones and re-arm the timer. Tx loop thread, caller holds tx_lock.
 * Return: 0, or -EAGAIN when the backend is full again.
 */
int faults_tx_ready(struct netbe *be);

/**
 * faults_rx_burst() - netbe_recv_burst() while rx faults are on: take
 * what the backend holds into the fault queue (dropping, duplicating,
 * corrupting), then deliver the frames that are due to @f.
 * Return: frames delivered; 0 when none is due; -EMSGSIZE when the first
 * due frame does not fit (it stays); another -errno from the backend.
 */
int faults_rx_burst(struct netbe *be, struct netbe_frame *f, unsigned n);

/** faults_rx_peek() - netbe_peek_recvlen() while rx faults are on.
 * Return: the length of the next due frame, 0 if none, -errno. */
ssize_t faults_rx_peek(struct netbe *be);

/** faults_rx_discard() - netbe_rx_discard() while rx faults are on.
 * Return: the length of the frame dropped, 0 if none was due, -errno. */
ssize_t faults_rx_discard(struct netbe *be);

/** faults_kick() - on the thread of direction @dir's loop, from its kick
 * eventfd: arm that direction's timer if a sender or receiver on another
 * thread asked for it. */
void faults_kick(struct netbe *be, enum netbe_direction dir);

/** faults_free() - delete the timers and free every queued frame,
 * counting each as fault_closed. Open/close only. */
void faults_free(struct netbe *be);

#endif /* NETBE_FAULTS_H */
