/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cache file (cache-file, cache-save-interval): loaded once before the
 * workers start, saved when heimdall stops cleanly and, optionally, every
 * cache-save-interval seconds.
 *
 * The cache has one writer, the slow path, so every call here runs on the
 * slow-path thread (the main lcore): hd_persist_tick() from its 100 ms
 * timer. A periodic save costs the slow path only the snapshot, an
 * in-memory copy of the live entries; writing, fsync and rename happen on a
 * short-lived thread while the slow path goes on. The workers never wait:
 * they only read the hash, lock-free, throughout.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "hd_app.h"
#include "hd_clock.h"

struct persist {
	struct hd_cache_image img;	/* owned by the writer thread while it runs */
	pthread_t writer;
	int writing;			/* a writer thread exists (slow path only) */
	int writer_done;		/* set by the writer, read by the slow path */
	int writer_ret;
	uint64_t next_ms;		/* data-path ms of the next periodic save */

	/* Read by telemetry: relaxed atomics. */
	struct hd_persist_stats st;
};

static struct persist ps;

static uint64_t
wall_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

static void
save_done(int ret, uint32_t entries)
{
	if (ret < 0) {
		APP_LOG(WARNING, "cannot save the cache to %s: %s", hd_app.cfg.cache_file,
			strerror(-ret));
		__atomic_store_n(&ps.st.last_save_error, -ret, __ATOMIC_RELAXED);
		__atomic_store_n(&ps.st.save_failures, ps.st.save_failures + 1, __ATOMIC_RELAXED);
		return;
	}
	APP_LOG(DEBUG, "saved %u cache entries to %s", entries, hd_app.cfg.cache_file);
	__atomic_store_n(&ps.st.last_save_error, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ps.st.saved_entries, entries, __ATOMIC_RELAXED);
	__atomic_store_n(&ps.st.saves, ps.st.saves + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&ps.st.last_save_wall, wall_sec(), __ATOMIC_RELAXED);
}

static void *
writer_main(void *arg)
{
	RTE_SET_USED(arg);
	ps.writer_ret = hd_cache_image_write(&ps.img, hd_app.cfg.cache_file);
	__atomic_store_n(&ps.writer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Collect a finished writer; with @p wait, wait for a running one. */
static void
writer_reap(int wait)
{
	if (!ps.writing)
		return;
	if (!wait && !__atomic_load_n(&ps.writer_done, __ATOMIC_ACQUIRE))
		return;
	pthread_join(ps.writer, NULL);
	ps.writing = 0;
	save_done(ps.writer_ret, ps.img.entries);
	hd_cache_image_free(&ps.img);
}

/* Snapshot now, write in the background. */
static void
save_start(struct hd_app *app)
{
	int ret;

	ret = hd_cache_snapshot(app->cache, wall_sec(), hd_clock_sec(), &ps.img);
	if (ret < 0) {
		save_done(ret, 0);
		return;
	}
	ps.writer_done = 0;
	ret = pthread_create(&ps.writer, NULL, writer_main, NULL);
	if (ret != 0) {
		/* No thread: write here rather than lose the save. */
		ret = hd_cache_image_write(&ps.img, app->cfg.cache_file);
		save_done(ret, ps.img.entries);
		hd_cache_image_free(&ps.img);
		return;
	}
	ps.writing = 1;
}

void
hd_persist_load(struct hd_app *app)
{
	int ret;

	ps.next_ms = hd_clock_ms() + (uint64_t)app->cfg.cache_save_interval * 1000;
	if (app->cfg.cache_file[0] == '\0' || app->cache == NULL)
		return;
	/* Reasons for refusing a file are logged by the cache library. */
	ret = hd_cache_load(app->cache, app->cfg.cache_file, wall_sec(), hd_clock_sec());
	if (ret > 0) {
		__atomic_store_n(&ps.st.loaded_entries, (uint64_t)ret, __ATOMIC_RELAXED);
		APP_LOG(INFO, "cache: %d entries loaded from %s", ret, app->cfg.cache_file);
	}
	/* A missing file is a first start; a bad one is reported, never fatal. */
	__atomic_store_n(&ps.st.load_error, ret < 0 && ret != -ENOENT ? -ret : 0,
			 __ATOMIC_RELAXED);
}

void
hd_persist_tick(struct hd_app *app)
{
	uint64_t now;

	if (app->cfg.cache_file[0] == '\0' || app->cache == NULL)
		return;
	writer_reap(0);
	if (app->cfg.cache_save_interval == 0 || ps.writing)
		return;
	now = hd_clock_ms();
	if (now < ps.next_ms)
		return;
	ps.next_ms = now + (uint64_t)app->cfg.cache_save_interval * 1000;
	save_start(app);
}

void
hd_persist_fini(struct hd_app *app)
{
	int ret;

	if (app->cfg.cache_file[0] == '\0' || app->cache == NULL)
		return;
	/* A periodic save still writing would rename its older image over ours. */
	writer_reap(1);
	ret = hd_cache_save(app->cache, app->cfg.cache_file, wall_sec(), hd_clock_sec());
	save_done(ret, ret > 0 ? (uint32_t)ret : 0);
	if (ret >= 0)
		APP_LOG(INFO, "cache: %d entries saved to %s", ret, app->cfg.cache_file);
}

void
hd_persist_stats_get(struct hd_persist_stats *s)
{
	s->saved_entries = __atomic_load_n(&ps.st.saved_entries, __ATOMIC_RELAXED);
	s->loaded_entries = __atomic_load_n(&ps.st.loaded_entries, __ATOMIC_RELAXED);
	s->saves = __atomic_load_n(&ps.st.saves, __ATOMIC_RELAXED);
	s->save_failures = __atomic_load_n(&ps.st.save_failures, __ATOMIC_RELAXED);
	s->last_save_wall = __atomic_load_n(&ps.st.last_save_wall, __ATOMIC_RELAXED);
	s->last_save_error = __atomic_load_n(&ps.st.last_save_error, __ATOMIC_RELAXED);
	s->load_error = __atomic_load_n(&ps.st.load_error, __ATOMIC_RELAXED);
}
