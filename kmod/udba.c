// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: udba=reval, changes made directly in branches.
 *
 * A lookup depends on the branch directories of the parent (names,
 * whiteouts) and, for a directory, on its own (the opaque marker, and what
 * its children resolve to).  Any entry created, removed or renamed in a
 * directory sets its ctime to the current time, so the stamp of a union
 * directory entry, a hash of the ctimes of its branch directories, changes
 * with any change of their names.  Each entry keeps the stamp of its
 * parent's branch directories when it was looked up (pstamp) and, for a
 * directory, of its own (dstamp); ->d_revalidate compares them with the
 * stamps of now, reading a few inodes and no branch: a dentry that still
 * matches is valid, in RCU-walk too.  Otherwise, outside RCU-walk, the
 * name is looked up again in the branches: the dentry stays if it resolves
 * to the same objects (its stamps are updated), a directory gets the new
 * entry in place if it is still the same directory, and anything else is
 * invalid, so the VFS looks it up afresh.
 *
 * Coarse timestamps: two changes within one clock tick may leave the ctime
 * as it was.  A stamp is kept only if every directory's ctime was older
 * than the time the lookup started, truncated to the directory's
 * granularity; else it is 0, which never matches, and the next use looks
 * the name up again.  Only setting the clock back can defeat this.
 */
#include <linux/hash.h>
#include "cppaufs.h"

/* Now, for cpa_udba_stamp(): taken before a lookup starts. */
void cpa_udba_since(struct timespec64 *since)
{
	ktime_get_coarse_real_ts64(since);
}

/*
 * The stamp of the branch directories of the directory entry @e, never 0;
 * with @since, 0 when a directory changed at or after @since, or when one
 * was removed.  Reads no lock: callable in RCU-walk, where @e and its
 * dentries are still there (freed after a grace period), and a torn read
 * only makes a mismatch.
 */
u64 cpa_udba_stamp(const struct cpa_entry *e, const struct timespec64 *since)
{
	u64 s = 0;
	int i;

	for (i = 0; i < READ_ONCE(e->count); i++) {
		struct dentry *h = cpa_entry_dentry(e, i);
		struct inode *inode;
		struct timespec64 ct;

		if (!h)
			continue;
		inode = d_inode_rcu(h);
		if (!inode || d_unlinked(h))
			return 0;
		ct = cpa_inode_ctime(inode);
		if (since) {
			struct timespec64 t = timestamp_truncate(*since, inode);

			if (timespec64_compare(&ct, &t) >= 0)
				return 0;
		}
		s ^= (u64)ct.tv_sec * NSEC_PER_SEC + ct.tv_nsec + inode->i_ino +
		     i;
		s *= GOLDEN_RATIO_64;
	}
	return s | 1;
}

/* Do the stamps of the entry @e of @dentry, of parent entry @pe, match? */
static bool cpa_udba_stamps_match(const struct dentry *dentry,
				  const struct cpa_entry *e,
				  const struct cpa_entry *pe)
{
	u64 ps = READ_ONCE(e->pstamp), ds;
	struct dentry *h;
	int top;

	if (!ps || ps != cpa_udba_stamp(pe, NULL))
		return false;
	if (d_really_is_negative(dentry))
		return true;
	/* Its top object was removed or renamed: changed. */
	top = cpa_entry_upper(e) ? 0 : 1;
	if (top >= READ_ONCE(e->count))
		return false;
	h = cpa_entry_dentry(e, top);
	if (!h || d_unhashed(h))
		return false;
	if (!d_is_dir(dentry))
		return true;
	ds = READ_ONCE(e->dstamp);
	return ds && ds == cpa_udba_stamp(e, NULL);
}

/*
 * Is the entry @e of @dentry, of parent entry @pe, still valid?  With
 * udba=notify, at once when no watched branch directory changed since it
 * was last found valid (notify.c); else when its stamps match, and then
 * it records the changes counted before they were read.  Lockless.
 */
static bool cpa_udba_match(const struct dentry *dentry, struct cpa_entry *e,
			   const struct cpa_entry *pe)
{
	unsigned long gen = 0;
	bool watched;

	/* The marks first: a change after they are read is counted. */
	watched = cpa_notify_watched(pe) &&
		  (!d_really_is_positive(dentry) || !d_is_dir(dentry) ||
		   cpa_notify_watched(e));
	if (watched) {
		gen = cpa_notify_gen(dentry->d_sb);
		if (READ_ONCE(e->ngen) == gen)
			return true;
	}
	if (!cpa_udba_stamps_match(dentry, e, pe))
		return false;
	if (watched)
		WRITE_ONCE(e->ngen, gen);
	return true;
}

/*
 * Did the branch directories of the union directory @dentry, or of its
 * parent, change since its entry was made or checked?  Called with
 * @dentry referenced.
 */
bool cpa_udba_dir_stale(struct dentry *dentry)
{
	struct cpa_entry *e = CPA_E(dentry);
	unsigned long gen = 0;
	bool stale, watched;
	u64 ds;

	if (IS_ROOT(dentry)) {
		watched = cpa_notify_watched(e);
		if (watched) {
			gen = cpa_notify_gen(dentry->d_sb);
			if (READ_ONCE(e->ngen) == gen)
				return false;
		}
		ds = READ_ONCE(e->dstamp);
		stale = !ds || ds != cpa_udba_stamp(e, NULL);
		if (!stale && watched)
			WRITE_ONCE(e->ngen, gen);
		return stale;
	}
	/* The parent may be renamed meanwhile: entries outlive RCU. */
	rcu_read_lock();
	stale = !cpa_udba_match(dentry, e,
				READ_ONCE(READ_ONCE(dentry->d_parent)->d_fsdata));
	rcu_read_unlock();
	return stale;
}

/*
 * Look @name up in the parent entry @pe, recording in the result the
 * stamps it depends on; *@pstamp gets the parent's in any case, and
 * *@ngen what a non-directory or negative entry of the name records of
 * udba=notify's count of changes (0: it is not watched).  With the
 * mounter's credentials.
 */
struct cpa_entry *cpa_udba_lookup(struct super_block *sb, struct cpa_entry *pe,
				  const char *name, int len, u64 *pstamp,
				  unsigned long *ngen)
{
	struct timespec64 since;
	struct cpa_entry *e;

	/* Before the lookup, like the stamps; the marks before the count. */
	*ngen = cpa_notify_watched(pe) ? cpa_notify_gen(sb) : 0;
	cpa_udba_since(&since);
	/* Before the lookup: a change made during it changes the stamp. */
	*pstamp = cpa_udba_stamp(pe, &since);
	e = cpa_lookup_entry(sb, pe, 0, name, len);
	if (!IS_ERR_OR_NULL(e)) {
		e->pstamp = *pstamp;
		/* A directory's own marks come later (notify.c). */
		if (d_is_dir(cpa_entry_dentry(e, cpa_entry_top(e))))
			e->dstamp = cpa_udba_stamp(e, &since);
		else
			e->ngen = *ngen;
	}
	return e;
}

/* Does @e resolve to the same non-directory as @old? */
static bool cpa_udba_same_file(const struct cpa_entry *e,
			       const struct cpa_entry *old)
{
	int top = cpa_entry_top(e), otop = cpa_entry_top(old);

	if (cpa_entry_dentry(e, top) != cpa_entry_dentry(old, otop) ||
	    e->metacopy != old->metacopy)
		return false;
	/* The data of a metadata-only copy: its last slot. */
	return !e->metacopy ||
	       cpa_entry_dentry(e, e->count - 1) ==
	       cpa_entry_dentry(old, old->count - 1);
}

/*
 * The stamps of the non-directory or negative @dentry do not match: look
 * it up again.  1 if it resolves to the same, 0 if not, or -errno.
 */
static int cpa_udba_recheck(struct dentry *parent, struct dentry *dentry)
{
	struct super_block *sb = dentry->d_sb;
	struct cpa_entry *old = CPA_E(dentry), *e;
	struct name_snapshot name;
	const struct cred *cred;
	unsigned long ngen;
	u64 pstamp;
	bool same;

	/*
	 * The parent first: the branches changed, or its own branch
	 * directories (an opaque marker).
	 */
	if (cpa_stale(parent) || cpa_udba_dir_stale(parent)) {
		int err = cpa_dir_refresh(parent);

		if (err)
			return err == -ESTALE ? 0 : err;
	}
	take_dentry_name_snapshot(&name, dentry);
	if (cpa_is_wh_name(name.name.name, name.name.len)) {
		release_dentry_name_snapshot(&name);
		return d_really_is_negative(dentry);
	}
	cred = cpa_override_creds(sb);
	e = cpa_udba_lookup(sb, CPA_E(parent), name.name.name, name.name.len,
			    &pstamp, &ngen);
	cpa_revert_creds(cred);
	release_dentry_name_snapshot(&name);
	if (IS_ERR(e))
		return PTR_ERR(e);
	if (d_really_is_negative(dentry))
		same = !e;
	else
		same = e && old && cpa_udba_same_file(e, old);
	if (same && old) {
		WRITE_ONCE(old->pstamp, pstamp);
		WRITE_ONCE(old->ngen, ngen);
	}
	if (same) {
		/* Pairs with the acquire in cpa_gen(): right in these branches. */
		smp_store_release(&dentry->d_time, cpa_gen(parent));
	}
	if (e)
		cpa_entry_free(e);
	return same;
}

/*
 * ->d_revalidate with udba=reval and udba=notify.  Outside RCU-walk it may look the name
 * up again; a directory in use keeps its dentry when it is still the same
 * directory (cpa_dir_refresh()).
 */
int cpa_udba_revalidate(struct dentry *dentry, unsigned int flags)
{
	CPA_ENTRIES_GUARD();
	struct cpa_entry *e, *pe;
	struct dentry *parent;
	int ret;

	if (flags & LOOKUP_RCU) {
		/* Entries are freed after a grace period: all still here. */
		e = READ_ONCE(dentry->d_fsdata);
		parent = READ_ONCE(dentry->d_parent);
		pe = READ_ONCE(parent->d_fsdata);
		if (e && pe && !cpa_stale(dentry) &&
		    cpa_udba_match(dentry, e, pe))
			return 1;
		return -ECHILD;
	}
	parent = dget_parent(dentry);
	e = CPA_E(dentry);
	if (e && !cpa_stale(dentry) && cpa_udba_match(dentry, e, CPA_E(parent))) {
		ret = 1;
	} else if (d_really_is_positive(dentry) && d_is_dir(dentry)) {
		/* 0 when done, -ESTALE when the name is another object now */
		ret = cpa_dir_refresh(dentry);
		ret = ret == -ESTALE ? 0 : ret ? ret : 1;
	} else {
		ret = cpa_udba_recheck(parent, dentry);
	}
	dput(parent);
	return ret;
}
