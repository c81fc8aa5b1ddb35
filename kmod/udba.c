// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: udba=reval, changes made directly in branches.
 *
 * A lookup depends on the parent's branch directories (names, whiteouts)
 * and, for a directory, on its own (the opaque marker, and what its
 * children resolve to).  Any entry created, removed or renamed in a
 * directory sets its ctime to the current time, so the stamp of a union
 * directory entry, a hash of the ctimes of its branch directories, changes
 * with any change of their names.  A directory keeps the stamp its branch
 * directories had when it was last checked (dstamp) and a generation of
 * its names (sgen), which goes up whenever they may have changed behind
 * the union; each name keeps the generation of its parent it was checked
 * against (pgen).  ->d_revalidate finds a name valid when its parent is
 * still as checked (the stamp of now is dstamp) and of the same
 * generation, reading a few inodes and no branch, in RCU-walk too.
 * Otherwise, outside RCU-walk, the parent is checked again (a new
 * generation) and the name looked up again in the branches: the dentry
 * stays if it resolves to the same objects, a directory gets the new
 * entry in place if it is still the same directory, and anything else is
 * invalid, so the VFS looks it up afresh.  A directory's own stamp is
 * checked by its children and by the users of its entry (lookup, listing,
 * refresh), not at each step of a path through it.
 *
 * Coarse timestamps: two changes within one clock tick may leave the ctime
 * as it was.  A stamp is kept only if every directory's ctime was older
 * than the time the check started, truncated to the directory's
 * granularity; else it is 0, which never matches, and the next use checks
 * again.  A change the union makes itself in a directory it found
 * unchanged (a create, a removal, a rename: cpa_udba_changed()) is taken
 * into its stamp without a new generation, so that its other names stay
 * valid; a direct change in the same tick would then go unseen, so once
 * that tick is over (settle) the directory is checked again, once.  Only
 * setting the clock back can defeat this.
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
 * dentries are still there (freed after an RCU grace period), and a torn
 * read only makes a mismatch.
 */
static __always_inline u64 cpa_udba_stamp_of(const struct cpa_entry *e,
					     const struct timespec64 *since)
{
	/* An opaque copy: only slot 0 counts (cpa_entry_dentry()). */
	int i, n = smp_load_acquire(&e->opaque) ? 1 : READ_ONCE(e->count);
	u64 s = 0;

	for (i = 0; i < n; i++) {
		struct dentry *h = i ? e->h[i].dentry : cpa_entry_upper(e);
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

/* The stamp of now, of a check.  Not inline: tests count its calls. */
static noinline u64 cpa_udba_stamp_now(const struct cpa_entry *e)
{
	return cpa_udba_stamp_of(e, NULL);
}

u64 cpa_udba_stamp(const struct cpa_entry *e, const struct timespec64 *since)
{
	return since ? cpa_udba_stamp_of(e, since) : cpa_udba_stamp_now(e);
}

/* The coarse clock, in ns: what the branches stamp ctimes with. */
static u64 cpa_udba_now(void)
{
	struct timespec64 now;

	cpa_udba_since(&now);
	return timespec64_to_ns(&now);
}

/*
 * Is the directory entry @e as it was last checked: its branch directories
 * still have the stamp recorded, and no change of the union's own waits to
 * settle?  Lockless.
 */
static __always_inline bool cpa_udba_fresh_of(const struct cpa_entry *e)
{
	u64 settle = READ_ONCE(e->settle), ds;

	if (settle && cpa_udba_now() >= settle)
		return false;
	/* Pairs with the smp_wmb()s of cpa_udba_checked(): settle is last. */
	smp_rmb();
	ds = READ_ONCE(e->dstamp);
	return ds && ds == cpa_udba_stamp_now(e);
}

bool cpa_udba_fresh(const struct cpa_entry *e)
{
	return cpa_udba_fresh_of(e);
}

/*
 * The directory entry @e was checked anew and its branch directories have
 * the stamp @stamp: a new generation of its names.  Under the copy lock of
 * its inode.
 */
void cpa_udba_checked(struct cpa_entry *e, u64 stamp)
{
	WRITE_ONCE(e->sgen, e->sgen + 1);
	/* Pairs with the smp_rmb() of cpa_udba_stamps_match(). */
	smp_wmb();
	WRITE_ONCE(e->dstamp, stamp);
	/* Pairs with the smp_rmb() of cpa_udba_fresh(). */
	smp_wmb();
	WRITE_ONCE(e->settle, 0);
}

/*
 * Is the directory entry @e as last checked?  With udba=notify, @gen is
 * the count of changes when @e is watched (else 0): unchanged at once when
 * none was reported since @e was last found valid; and when one was, the
 * stamps cannot tell of a change in the clock tick of a change of the
 * union's own.  Lockless.
 */
static __always_inline bool cpa_udba_dir_ok(const struct cpa_entry *e,
					    unsigned long gen)
{
	if (gen) {
		if (READ_ONCE(e->ngen) == gen)
			return true;
		if (READ_ONCE(e->settle))
			return false;
	}
	return cpa_udba_fresh_of(e);
}

/*
 * Is the entry @e of @dentry, of parent entry @pe, still valid as a name
 * of the parent: the parent as checked (@gen: see cpa_udba_dir_ok()), of
 * the same generation, and the top object still there?
 */
static __always_inline bool
cpa_udba_stamps_match(const struct dentry *dentry, const struct cpa_entry *e,
		      const struct cpa_entry *pe, unsigned long gen)
{
	struct dentry *h;
	int top;

	if (!cpa_udba_dir_ok(pe, gen))
		return false;
	/* Pairs with the smp_wmb()s of cpa_udba_checked(): sgen is first. */
	smp_rmb();
	if (READ_ONCE(e->pgen) != READ_ONCE(pe->sgen))
		return false;
	if (d_really_is_negative(dentry))
		return true;
	/* Its top object was removed or renamed: changed. */
	top = cpa_entry_upper(e) ? 0 : 1;
	if (top >= READ_ONCE(e->count))
		return false;
	h = cpa_entry_dentry(e, top);
	return h && !d_unhashed(h);
}

/*
 * Is the entry @e of @dentry, of parent entry @pe, still valid?  With
 * udba=notify, at once when no watched branch directory changed since it
 * was last found valid (notify.c); else when its stamps match, and then
 * it records the changes counted before they were read.  @own: of a
 * directory, its own branch directories must be unchanged too.
 * Lockless.
 */
static __always_inline bool cpa_udba_match(const struct dentry *dentry,
					   struct cpa_entry *e,
					   const struct cpa_entry *pe, bool own)
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
	if (!cpa_udba_stamps_match(dentry, e, pe, gen))
		return false;
	/* What ngen records covers the directory's own stamp too. */
	if ((own || watched) && d_really_is_positive(dentry) &&
	    d_is_dir(dentry) && !cpa_udba_dir_ok(e, gen))
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

	if (IS_ROOT(dentry)) {
		watched = cpa_notify_watched(e);
		if (watched) {
			gen = cpa_notify_gen(dentry->d_sb);
			if (READ_ONCE(e->ngen) == gen)
				return false;
		}
		stale = !cpa_udba_dir_ok(e, gen);
		if (!stale && watched)
			WRITE_ONCE(e->ngen, gen);
		return stale;
	}
	/* The parent may be renamed meanwhile: entries outlive RCU. */
	rcu_read_lock();
	stale = !cpa_udba_match(dentry, e,
				READ_ONCE(READ_ONCE(dentry->d_parent)->d_fsdata),
				true);
	rcu_read_unlock();
	return stale;
}

/*
 * Is the union directory @dentry, about to be changed through the union,
 * unchanged behind its back?  Then cpa_udba_changed() may take the change
 * into its stamp.  Called with @dentry referenced.
 */
bool cpa_udba_unchanged(struct dentry *dentry)
{
	return CPA_SB(dentry->d_sb)->udba != CPA_UDBA_NONE &&
	       !cpa_stale(dentry) && !cpa_udba_dir_stale(dentry);
}

/*
 * The union made, removed or renamed a name in the directory @dentry,
 * which cpa_udba_unchanged() found unchanged just before (@unchanged):
 * take the change into its stamp, without a new generation, so that its
 * other names stay valid.  A direct change made in the same clock tick
 * would leave the stamp as it is now: the directory is checked again once
 * the tick is over, at every branch directory's granularity.
 */
void cpa_udba_changed(struct dentry *dentry, bool unchanged)
{
	struct cpa_inode *ci;
	struct timespec64 now;
	struct cpa_entry *e;
	u64 settle = 1;
	int i;

	if (!unchanged)
		return;
	ci = CPA_I(d_inode(dentry));
	cpa_udba_since(&now);
	mutex_lock(&ci->copy_lock);
	e = CPA_E(dentry);
	for (i = 0; i < e->count; i++) {
		struct dentry *h = cpa_entry_dentry(e, i);
		struct timespec64 t;
		u64 end;

		if (!h || d_really_is_negative(h))
			continue;
		t = timestamp_truncate(now, d_inode(h));
		end = timespec64_to_ns(&t) + d_inode(h)->i_sb->s_time_gran;
		settle = max(settle, end);
	}
	WRITE_ONCE(e->settle, settle);
	/* Pairs with the smp_rmb() of cpa_udba_fresh(). */
	smp_wmb();
	WRITE_ONCE(e->dstamp, cpa_udba_stamp(e, NULL));
	mutex_unlock(&ci->copy_lock);
}

/*
 * Look @name up in the parent entry @pe, recording in the result what its
 * checks depend on; *@pgen gets the parent's generation in any case, and
 * *@ngen what a non-directory or negative entry of the name records of
 * udba=notify's count of changes (0: it is not watched).  With the
 * mounter's credentials.
 */
struct cpa_entry *cpa_udba_lookup(struct super_block *sb, struct cpa_entry *pe,
				  const char *name, int len,
				  unsigned long *pgen, unsigned long *ngen)
{
	struct timespec64 since;
	struct cpa_entry *e;

	/* Before the lookup, like the stamps; the marks before the count. */
	*ngen = cpa_notify_watched(pe) ? cpa_notify_gen(sb) : 0;
	/* Before the lookup: a new generation meanwhile makes it unchecked. */
	*pgen = READ_ONCE(pe->sgen);
	cpa_udba_since(&since);
	e = cpa_lookup_entry(sb, pe, 0, name, len);
	if (!IS_ERR_OR_NULL(e)) {
		e->pgen = *pgen;
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
	unsigned long ngen, pgen;
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
			    &pgen, &ngen);
	cpa_revert_creds(cred);
	release_dentry_name_snapshot(&name);
	if (IS_ERR(e))
		return PTR_ERR(e);
	if (d_really_is_negative(dentry))
		same = !e;
	else
		same = e && old && cpa_udba_same_file(e, old);
	if (same && old) {
		WRITE_ONCE(old->pgen, pgen);
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
 * cpa_udba_revalidate() outside RCU-walk, for a name that failed the quick
 * check: look it up again.  Not inline: the quick check does without its
 * stack frame.
 */
static noinline int cpa_udba_revalidate_ref(struct dentry *dentry)
{
	CPA_ENTRIES_GUARD();
	struct dentry *parent;
	int ret;

	parent = dget_parent(dentry);
	if (d_really_is_positive(dentry) && d_is_dir(dentry)) {
		/* 0 when done, -ESTALE when the name is another object now */
		ret = cpa_dir_refresh(dentry);
		ret = ret == -ESTALE ? 0 : ret ? ret : 1;
	} else {
		ret = cpa_udba_recheck(parent, dentry);
	}
	dput(parent);
	return ret;
}

/*
 * The lockless check of cpa_udba_revalidate(), under rcu_read_lock().  No
 * SRCU read side is needed: entries are still here (freed after an RCU
 * grace period, retired ones after an SRCU one first: namei.c), and so are
 * their branch dentries and inodes (RCU-freed).
 */
static __always_inline bool cpa_udba_valid_rcu(struct dentry *dentry)
{
	struct cpa_entry *e = READ_ONCE(dentry->d_fsdata), *pe;

	pe = READ_ONCE(READ_ONCE(dentry->d_parent)->d_fsdata);
	return e && pe && !cpa_stale(dentry) &&
	       cpa_udba_match(dentry, e, pe, false);
}

/*
 * ->d_revalidate with udba=reval and udba=notify.  A name whose parent is
 * as checked is valid at once, also in ref-walk (a walk that left RCU-walk
 * earlier, in another filesystem, pays no reference or SRCU read side for
 * it).  Else, outside RCU-walk, it may look the name up again; a
 * directory in use keeps its dentry when it is still the same directory
 * (cpa_dir_refresh()).
 */
int cpa_udba_revalidate(struct dentry *dentry, unsigned int flags)
{
	bool ok;

	/* RCU-walk: the VFS holds rcu_read_lock(). */
	if (flags & LOOKUP_RCU)
		return cpa_udba_valid_rcu(dentry) ? 1 : -ECHILD;
	rcu_read_lock();
	ok = cpa_udba_valid_rcu(dentry);
	rcu_read_unlock();
	return ok ? 1 : cpa_udba_revalidate_ref(dentry);
}
