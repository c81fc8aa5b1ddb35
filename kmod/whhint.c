// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: knowing that a branch directory holds no whiteout.
 *
 * A name that a branch directory does not hold may still be whited out
 * there, so lookup asks for ".wh.<name>" too: under many branches, or on
 * a first lookup, that doubles the work.  Most branch directories hold no
 * whiteout at all.  After a few whiteout lookups in one, it is read once;
 * if no ".wh.<name>" turned up, the directory's ctime is kept, and while
 * the ctime stays the same no whiteout lookup is made in it.
 *
 * Any entry created in a directory, by the union or beside it, sets the
 * directory's ctime to the current time.  A reading is kept only if the
 * ctime was already older than the current time when the reading began,
 * so a change made after that cannot leave the ctime as it was, even with
 * coarse timestamps.  The clock being set back is the one way to fool it.
 * Filesystems that revalidate their dentries (network ones) are always
 * asked.
 */
#include <linux/slab.h>
#include "cppaufs.h"

#define CPA_WH_CLEAN	1ULL
#define CPA_WH_SCANNING	(INT_MIN / 2)

/* The state tag of the ctime @ct: in nanoseconds, shifted left by one. */
static u64 cpa_wh_tag(struct timespec64 ct)
{
	return ((u64)ct.tv_sec * NSEC_PER_SEC + ct.tv_nsec) << 1;
}

/* The hints of @pe, made at the first need; NULL if memory is short. */
static struct cpa_wh_hint *cpa_wh_hints(struct cpa_entry *pe)
{
	/* Pairs with the cmpxchg below: the array is zeroed. */
	struct cpa_wh_hint *wh = smp_load_acquire(&pe->wh);

	if (wh)
		return wh;
	wh = kcalloc(pe->count, sizeof(*wh), GFP_KERNEL);
	if (!wh)
		return NULL;
	/* A full barrier: the zeroed array is seen before the pointer. */
	if (cmpxchg(&pe->wh, NULL, wh)) {
		kfree(wh);
		/* Pairs with the winner's cmpxchg. */
		return smp_load_acquire(&pe->wh);
	}
	cpa_objects_inc();
	return wh;
}

void cpa_wh_hints_free(struct cpa_entry *e)
{
	if (!e->wh)
		return;
	kfree(e->wh);
	e->wh = NULL;
	cpa_objects_dec();
}

/* The union made a whiteout in the directory of slot @i of @pe. */
void cpa_wh_hint_forget(struct cpa_entry *pe, int i)
{
	/* Pairs with the cmpxchg in cpa_wh_hints(). */
	struct cpa_wh_hint *wh = smp_load_acquire(&pe->wh);

	if (wh)
		atomic64_set(&wh[i].state, 0);
}

struct cpa_wh_scan {
	struct dir_context ctx;
	unsigned int added;	/* entries in this iterate_dir */
	bool found;
};

static CPA_FILLDIR_RET cpa_wh_scan_actor(struct dir_context *ctx,
					 const char *name, int len,
					 loff_t offset, u64 ino,
					 unsigned int type)
{
	struct cpa_wh_scan *s = container_of(ctx, struct cpa_wh_scan, ctx);

	s->added++;
	if (cpa_is_wh_entry(name, len)) {
		s->found = true;
		return cpa_filldir_ret(false);
	}
	return cpa_filldir_ret(true);
}

/*
 * Read the branch directory @path and record in @wh whether it holds a
 * whiteout.  Nothing is recorded if it changed meanwhile, or was changed
 * too recently for its ctime to tell a later change, or could not be read.
 */
static void cpa_wh_scan(struct super_block *sb, const struct path *path,
			struct cpa_wh_hint *wh)
{
	struct cpa_wh_scan s = { .ctx.actor = cpa_wh_scan_actor };
	struct inode *dir = d_inode(path->dentry);
	struct timespec64 now = current_time(dir);
	struct timespec64 ct = cpa_inode_ctime(dir);
	const struct cred *old;
	struct file *file;
	u64 tag = cpa_wh_tag(ct);
	int err;

	if (timespec64_compare(&ct, &now) >= 0)
		return;
	old = cpa_override_creds(sb);
	/* A lookup, not a read: the branch directory's atime stays. */
	file = cpa_do_open(path, O_RDONLY | O_DIRECTORY | O_NOATIME,
			   current_cred());
	if (IS_ERR(file)) {
		cpa_revert_creds(old);
		return;
	}
	/* Some filesystems hand out a directory in several batches. */
	do {
		s.added = 0;
		err = iterate_dir(file, &s.ctx);
	} while (!err && !s.found && s.added);
	fput(file);
	cpa_revert_creds(old);
	if (err || cpa_wh_tag(cpa_inode_ctime(dir)) != tag)
		return;
	atomic64_set(&wh->state, s.found ? tag : tag | CPA_WH_CLEAN);
}

/*
 * Is @name whited out in @h_parent, the branch directory of slot @i of
 * the directory entry @pe?  1, 0, or -errno; 0 without a lookup when the
 * directory is known to hold no whiteout.
 */
int cpa_wh_lookup(struct super_block *sb, struct cpa_entry *pe, int i,
		  struct dentry *h_parent, const char *name, int len)
{
	struct path path = {
		.mnt = cpa_entry_br(sb, pe, i)->path.mnt,
		.dentry = h_parent,
	};
	struct inode *dir = d_inode(h_parent);
	struct cpa_wh_hint *wh;
	int probes, due;
	u64 tag, state;

	if (h_parent->d_flags & DCACHE_OP_REVALIDATE)
		goto lookup;
	wh = cpa_wh_hints(pe);
	if (!wh)
		goto lookup;
	wh += i;
	tag = cpa_wh_tag(cpa_inode_ctime(dir));
	state = atomic64_read(&wh->state);
	if (state == (tag | CPA_WH_CLEAN))
		return 0;
	/* Known to hold whiteouts, and not changed since. */
	if (state == tag)
		goto lookup;
	/*
	 * Read it once the lookups made since would have cost about as
	 * much: one per 256 bytes of directory.
	 */
	due = 1 + min_t(loff_t, i_size_read(dir) >> 8, INT_MAX / 4);
	probes = atomic_inc_return(&wh->probes);
	if (probes < due ||
	    atomic_cmpxchg(&wh->probes, probes, CPA_WH_SCANNING) != probes)
		goto lookup;
	cpa_wh_scan(sb, &path, wh);
	atomic_set(&wh->probes, 0);
	if (atomic64_read(&wh->state) == (tag | CPA_WH_CLEAN))
		return 0;
lookup:
	return cpa_wh_test(h_parent, name, len);
}
