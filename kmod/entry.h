/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cppaufs: per-superblock, per-branch, per-dentry and per-inode state, and
 * the accessors that keep every container_of and s_fs_info cast in one place.
 *
 * Lock order (outermost first):
 *   union directory inode lock (VFS)
 *     cpa_inode.copy_lock (a directory's entry is replaced under it)
 *       cpa_sb_info.br_lock
 *     cpa_inode.lock
 *       branch directory inode locks, parent before child (I_MUTEX_PARENT)
 *         cpa_xino.lock (allocations under it do not enter fs reclaim)
 */
#ifndef _CPPAUFS_ENTRY_H
#define _CPPAUFS_ENTRY_H

#include <linux/fs.h>
#include <linux/path.h>
#include <linux/kobject.h>
#include <linux/completion.h>
#include <linux/xarray.h>
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>
#include <linux/refcount.h>
#include <linux/rcupdate.h>
#include <linux/srcu.h>
#include <linux/llist.h>
#include <linux/lockdep.h>

/* What the union may do with a branch. */
enum cpa_perm {
	CPA_PERM_RO,	/* read-only through the union */
	CPA_PERM_RR,	/* really read-only: nobody writes the branch fs */
	CPA_PERM_RW,	/* writable: objects are changed, created and copied here */
};

/* create=: where a new object goes (copy_up.c, cpa_create_target()). */
enum cpa_create_policy {
	CPA_CREATE_TDP,		/* the parent's topmost writable branch */
	CPA_CREATE_RR,		/* the writable branches in turn */
	CPA_CREATE_MFS,		/* the writable branch with most free space */
	CPA_CREATE_PMFS,	/* the parent's one with most free space */
	CPA_CREATE_TDMFS,	/* the topmost one with room, else as mfs */
	CPA_CREATE_MFSRR,	/* as mfs; as rr once all are short of room */
	CPA_CREATE_PMFSRR,	/* as pmfs; as mfsrr if that one is short */
};

/*
 * Default interval of the policies that look at the free space, between
 * two looks.
 */
#define CPA_MFS_SECS_DEFAULT	30

/* What statfs of the union counts (super.c). */
enum cpa_sum {
	CPA_SUM_NONE,		/* branch 0 */
	CPA_SUM_ALL,		/* every branch's filesystem, once */
	CPA_SUM_WRITABLE,	/* the writable branches' filesystems, once */
};

/* cpup=: where a lower object is copied (cpa_copyup_target()). */
enum cpa_cpup_policy {
	CPA_CPUP_TDP,	/* the parent's topmost writable branch above it */
	CPA_CPUP_BUP,	/* the parent's lowest writable branch above it */
	CPA_CPUP_BU,	/* the nearest writable branch above it */
};

/*
 * One branch.  Referenced by the branch table that lists it and by every
 * entry slot and union inode that uses it (branch.c), so that it outlives
 * its place in the table; freed after an RCU grace period, since sysfs
 * reads the table under RCU.
 */
struct cpa_branch {
	refcount_t ref;
	struct path path;	/* root of the branch, referenced */
	char *name;		/* absolute path, as sysfs shows it */
	enum cpa_perm perm;
	int id;			/* brid: stable id of the branch */
	u32 xino_slot;		/* the branch's slot in the xino tables */
	/* union files open whose data is on this branch (file.c) */
	atomic_t nfiles;
	/*
	 * Branch inodes mapped through the union, referenced: a mapping
	 * outlives the union file that made it (branch.c).
	 */
	spinlock_t mapped_lock;
	struct list_head mapped;
	unsigned int nmapped;		/* entries on the list */
	unsigned int mapped_prune;	/* prune the list at this length */
	/*
	 * Of a writable branch, set up when it became writable (whiteout.c)
	 * and kept for its life, referenced.
	 */
	struct dentry *workdir;	/* .wh..wh.orph: copy-up staging */
	struct dentry *whbase;	/* .wh..wh.aufs: whiteouts link to it */
	/* of the branch of the pseudo-links: .wh..wh.plnk (plink.c) */
	struct dentry *plinkdir;
	/*
	 * create=mfs|pmfs: the free space seen, and when (jiffies, 0:
	 * never, or a create failed with ENOSPC since).
	 */
	u64 mfs_free;
	unsigned long mfs_stamp;
	struct rcu_head rcu;
};

/*
 * The branches of a mount, top first.  Published with RCU; a change of
 * branches makes a new table (branch.c).
 */
struct cpa_brtable {
	struct rcu_head rcu;
	int nbranch;
	int rw_index;		/* index of the first writable branch, or -1 */
	struct cpa_branch *br[];	/* [nbranch], referenced */
};

/*
 * The writable branches of a mount, top first, each referenced: the list
 * that create= policies and xino pick from.  Published with RCU and
 * replaced whole when a remount changes which branches are writable;
 * users hold a reference (cpa_wbrs_get()) while they use a branch of it.
 */
struct cpa_wbrs {
	refcount_t ref;
	struct rcu_head rcu;
	int n;
	struct cpa_branch *br[];	/* [n] */
};

/*
 * udba=: how the union notices changes made directly in its branches
 * (udba.c).  NONE: not at all, dentries are trusted until dropped.  REVAL,
 * the default: a directory records the ctimes of its branch directories,
 * and a name is looked up again when those of its parent changed behind
 * the union.  NOTIFY: as REVAL,
 * and fsnotify marks on the branch directories (notify.c) tell at once of
 * a change, so that a dentry none changed is valid without a look at them.
 */
enum cpa_udba {
	CPA_UDBA_NONE,
	CPA_UDBA_REVAL,
	CPA_UDBA_NOTIFY,
};

/* What sysfs.c shows for one mount. */
struct cpa_sysfs {
	struct kobject kobj;		/* /sys/fs/cppaufs/si_<id> */
	struct completion released;	/* signalled by the kobject release */
	struct attribute_group group;
	struct attribute **attrs;	/* NULL-terminated, for group */
	struct cpa_sysfs_attr *items;	/* backing storage for attrs */
	int shown;			/* branches with br<N> files */
	int ninit;			/* of them, made at mount (items) */
	/* files of branches added since the mount, a pair each */
	struct cpa_sysfs_attr **more;
	int nmore;
};

/* Union inode numbers (xino.c). */
struct cpa_xino;
/* udba=notify: a mark on a branch directory (notify.c). */
struct cpa_mark;
struct fsnotify_group;

/* Per superblock: s_fs_info. */
struct cpa_sb_info {
	struct super_block *sb;
	u64 id;			/* si id, shown as si_<16 hex digits> */
	struct cpa_brtable __rcu *brt;	/* the branches (cpa_brt()) */
	/* serialises changes of branches (brops.c) */
	struct mutex br_lock;
	/*
	 * Union operations under way that may write a branch or open a file
	 * on one (CPA_BRANCHES_GUARD()), and, set by a remount that removes
	 * branches or changes whether they are writable, the hold that keeps
	 * new ones waiting until it has published (brops.c).
	 */
	atomic_t brs_users;
	bool brs_hold;
	struct lockdep_map brs_dep_map;
	/*
	 * Bumped by every change of branches; a dentry looked up before
	 * (its d_time is older) is revalidated (namei.c).
	 */
	unsigned long br_gen;
	int next_brid;		/* brid of the next branch added */
	/* a refresh retired an entry: unmount waits for them (namei.c) */
	bool retired;
	/*
	 * brid of branch 0 as mounted: its root is the union root in the
	 * xino file.  A remount may move it down or remove it.
	 */
	int first_id;
	/*
	 * The branch of the pseudo-links (plink.c), referenced: the first
	 * writable branch as mounted, else NULL.  A remount that removes
	 * it sets it to NULL for the rest of the mount; readers outside the
	 * branches' hold take a reference (cpa_plink_br_get()).
	 */
	struct cpa_branch __rcu *plink_br;
	const struct cred *creator_cred; /* credentials of the mounter */
	/* the mounter's with the last creator's fsuid, fsgid (util.c) */
	spinlock_t owner_lock;
	const struct cred *owner_cred;
	atomic64_t next_ino;	/* next free union inode number */
	char *xino_path;	/* where the xino file lives, or NULL */
	struct cpa_xino *xino;	/* xino.c: the numbers and their file */
	/* metadata-only copy-up of regular files (metacopy.c) */
	bool metacopy;
	/* udba=, fixed at mount: it chose the dentry operations */
	enum cpa_udba udba;
	/*
	 * udba=notify (notify.c): the group of the marks on branch
	 * directories, and the number of changes they reported, never 0.
	 */
	struct fsnotify_group *notify_group;
	atomic_long_t notify_gen;
	/* the union has a writable branch now (brops.c changes it) */
	bool writable;
	/* create= and cpup=; may change on remount */
	enum cpa_create_policy create;
	enum cpa_cpup_policy cpup;
	unsigned int mfs_secs;	/* of the policies that look at free space */
	u64 mfs_low;		/* of create=tdmfs|mfsrr|pmfsrr:<low> */
	enum cpa_sum sum;	/* sum, wsum, nosum; may change on remount */
	/* the writable branches, top first: cpa_wbrs_get() (branch.c) */
	struct cpa_wbrs __rcu *wbrs;
	atomic_t rr_next;	/* create=rr: the next of them */
	atomic_t tmp_seq;	/* names of staged copies */
	struct cpa_sysfs sysfs;
	/* the branches as mounted, for a remount that repeats them (params.c) */
	char *mount_brs;
	size_t mount_brs_len;
};

/*
 * What a lookup knows of one branch directory's whiteouts (whhint.c):
 * @state is the directory's ctime when it was last read, shifted left by
 * one, with bit 0 set if it held no whiteout; 0 when never read.
 * @probes counts the whiteout lookups made in it since.
 */
struct cpa_wh_hint {
	atomic64_t state;
	atomic_t probes;
};

/* A dentry of a branch filesystem that backs a union dentry. */
struct cpa_hdentry {
	/* referenced; in slot 0, set before the dentry is published */
	struct cpa_branch *br;
	struct dentry *dentry;	/* referenced */
};

/*
 * Per union dentry (d_fsdata): where the object exists, top-down, after
 * whiteouts and opaque directories were applied.
 *
 * Slot 0 is the upper slot: the topmost object when lookup found it on a
 * writable branch (or on branch 0, writable or not), else empty until
 * copy-up puts there the copy it made on a writable branch above every
 * other slot.  It changes once at most, from NULL to a dentry
 * (smp_store_release/smp_load_acquire), its branch written before the
 * dentry, so both may be read without locks; every other slot is fixed
 * at lookup.  A non-directory uses one slot, a directory one per merged
 * branch.
 *
 * With udba=reval a negative dentry has an entry too, of one empty slot,
 * for its stamp; entries are freed after an RCU grace period, since
 * ->d_revalidate reads them in RCU-walk.
 */
struct cpa_entry {
	int count;		/* slots, slot 0 included */
	/*
	 * udba=reval (udba.c).  Of any entry: pgen, the parent's sgen when
	 * this name was looked up or last checked.  Of a directory: dstamp,
	 * the stamp of its branch directories when they were last checked
	 * (0 when it could not be trusted); sgen, bumped whenever its
	 * names may have changed behind the union; settle, when dstamp
	 * took in a change the union made itself, the time (ns of the
	 * coarse clock) from which a direct change made in the same clock
	 * tick may be hidden: from then on the directory is checked again.
	 */
	unsigned long pgen;
	unsigned long sgen;
	u64 dstamp;
	u64 settle;
	/*
	 * udba=notify (notify.c): the number of changes reported when this
	 * entry was last known valid, 0 if never; of a directory, the marks
	 * on its branch directories (published once all are there, changed
	 * under the copy lock of its inode) and the upper one they cover.
	 */
	unsigned long ngen;
	struct cpa_mark *watch;
	struct dentry *watch_upper;
	struct rcu_head rcu;
	/*
	 * Set once, when a directory was copied up as a whole and made
	 * opaque: from then on only slot 0 counts.
	 */
	bool opaque;
	/*
	 * Set at lookup: the topmost object of this regular file is a
	 * metadata-only copy, and its data is the last slot's (metacopy.c).
	 */
	bool metacopy;
	/*
	 * Of a directory: per slot, whether its branch directory holds any
	 * whiteout (whhint.c).  Made at the first need, then fixed.
	 */
	struct cpa_wh_hint *wh;
	/*
	 * Of an entry a refresh replaced: the union inode's backing object
	 * and its branch when the refresh gave them up (their branch was
	 * removed), referenced until this entry is freed.
	 */
	struct inode *real;
	struct cpa_branch *real_br;
	/* likewise the directory's copy, when its top moved (namei.c) */
	struct inode *upper;
	struct cpa_branch *upper_br;
	/* retired: queued to be freed (namei.c) */
	struct llist_node retired;
	struct cpa_hdentry h[];
};

/*
 * The entry of a directory is replaced when the directory is refreshed
 * (namei.c) and the old one freed once no union operation can be reading
 * it: an SRCU grace period.  So every union operation that may read the
 * entry of a directory, its own or a parent's, other than under that
 * directory's copy_lock, runs inside a read side, which
 * CPA_ENTRIES_GUARD() opens until the end of the enclosing block.
 */
extern struct srcu_struct cpa_entry_srcu;

struct cpa_entries_guard {
	int idx;
};

static inline void cpa_entries_guard_end(struct cpa_entries_guard *g)
{
	srcu_read_unlock(&cpa_entry_srcu, g->idx);
}

#define CPA_ENTRIES_GUARD()						\
	struct cpa_entries_guard __cpa_entries_guard			\
	__attribute__((cleanup(cpa_entries_guard_end))) =		\
	{ .idx = srcu_read_lock(&cpa_entry_srcu) }

/*
 * A remount that removes branches or changes whether they are writable
 * checks that none is in use, then publishes the new table; an operation
 * that picked a branch in between would write a branch that is no longer
 * writable, or open a file on one that is gone.  So every union operation
 * that may write a branch or open a file on one, and ->lookup(), whose
 * new entry references branches, holds changes off for its whole body:
 * CPA_BRANCHES_GUARD() counts it in sbi->brs_users until the end of the
 * enclosing block, and waits first while a remount holds new ones off.
 * Taken inside the VFS's locks of the union (superblock write access,
 * inode locks), never around them, and never nested: a remount waiting
 * for the outer one would hold the inner one off.
 */
struct cpa_branches_guard {
	struct cpa_sb_info *sbi;
};

struct cpa_sb_info *cpa_branches_use(struct super_block *sb);
void cpa_branches_unuse(struct cpa_branches_guard *g);

#define CPA_BRANCHES_GUARD(sb)						\
	struct cpa_branches_guard __cpa_branches_guard			\
	__attribute__((cleanup(cpa_branches_unuse))) =			\
	{ .sbi = cpa_branches_use(sb) }

/* Shared, refcounted snapshot of a merged directory listing (readdir.c). */
struct cpa_dir_cache;

/* Per union inode. */
struct cpa_inode {
	struct inode vfs_inode;
	/*
	 * Backing inode found by lookup; referenced, never NULL.  Of a
	 * directory whose top object changed (its branch was removed, or a
	 * branch added or made writable above it), replaced by the new top
	 * under copy_lock (namei.c); the old one stays referenced by the
	 * entry the refresh retired.
	 */
	struct inode *real;
	struct cpa_branch *br;	/* branch of real, referenced */
	/*
	 * The copy on a writable branch (or on branch 0) once copied up
	 * (referenced); from then on attributes come from it.  Its branch,
	 * referenced, is set before it is published.  Set once, but of a
	 * directory cleared when real takes a new top, under copy_lock.
	 */
	struct inode *upper;
	struct cpa_branch *upper_br;
	/* protects copy-up of this object */
	struct mutex copy_lock;
	/*
	 * The copy on branch 0 holds metadata only: the data is still the
	 * lower file's (metacopy.c).  Set before the copy is published,
	 * cleared under copy_lock once the data was copied.
	 */
	bool metacopy;
	/* the copy has a pseudo-link (plink.c); set once */
	bool plinked;
	/*
	 * Of a hard-linked lower file: how many of its lower names are still
	 * visible, from the record of plink.c; -1 while none was hidden.
	 * Written under copy_lock.
	 */
	long lower_left;
	/*
	 * Of a directory: the task making a name in it through the union
	 * with the caller's fsuid (dir.c), whose events in the branch
	 * directory are not forwarded to it (notify.c).
	 */
	struct task_struct *maker;
	/* protects cache and version: serialises directory cache builds */
	struct mutex lock;
	struct cpa_dir_cache *cache;
	u64 version;		/* bumped whenever the directory changes */
};

static inline struct cpa_sb_info *CPA_SB(const struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct cpa_inode *CPA_I(const struct inode *inode)
{
	return container_of(inode, struct cpa_inode, vfs_inode);
}

static inline struct cpa_entry *CPA_E(const struct dentry *dentry)
{
	return dentry->d_fsdata;
}

/*
 * The branch table, for a caller that holds br_lock or s_umount (a change
 * of branches holds both), or sets the mount up.  Others use RCU.
 */
static inline struct cpa_brtable *cpa_brt(const struct cpa_sb_info *sbi)
{
	return rcu_dereference_protected(sbi->brt, 1);
}

/*
 * The branch that keeps the pseudo-links, or NULL (cpa_sb_info), to
 * compare with: cpa_plink_br_get() to use it.
 */
static inline struct cpa_branch *cpa_plink_br(const struct super_block *sb)
{
	return rcu_access_pointer(CPA_SB(sb)->plink_br);
}

/*
 * The branch of slot @i of @e.  For slot 0, valid once its dentry was
 * read (cpa_entry_upper()), since it is written before the dentry.
 */
static inline struct cpa_branch *cpa_entry_br(const struct super_block *sb,
					      const struct cpa_entry *e, int i)
{
	return i ? e->h[i].br : READ_ONCE(e->h[0].br);
}

/* The upper object (slot 0), or NULL. */
static inline struct dentry *cpa_entry_upper(const struct cpa_entry *e)
{
	/* Pairs with the release in copy-up: the copy is complete. */
	return smp_load_acquire(&e->h[0].dentry);
}

/* The branch of the upper object, or NULL. */
static inline struct cpa_branch *cpa_entry_upper_br(const struct cpa_entry *e)
{
	return cpa_entry_upper(e) ? READ_ONCE(e->h[0].br) : NULL;
}

/* Slot @i of @e, or NULL if empty (only slot 0 can be). */
static inline struct dentry *cpa_entry_dentry(const struct cpa_entry *e,
					      int i)
{
	if (!i)
		return cpa_entry_upper(e);
	/* Pairs with the release in cpa_copy_up_tree(). */
	return smp_load_acquire(&e->opaque) ? NULL : e->h[i].dentry;
}

/* The slot of @e whose object is on @br, or -1. */
static inline int cpa_entry_slot(const struct cpa_entry *e,
				 const struct cpa_branch *br)
{
	int i;

	if (cpa_entry_upper_br(e) == br)
		return 0;
	for (i = 1; i < e->count; i++)
		if (e->h[i].br == br && cpa_entry_dentry(e, i))
			return i;
	return -1;
}

/* The topmost slot of a positive union dentry. */
static inline int cpa_entry_top(const struct cpa_entry *e)
{
	return cpa_entry_upper(e) ? 0 : 1;
}

static inline struct dentry *cpa_dentry_real(const struct dentry *dentry)
{
	const struct cpa_entry *e = CPA_E(dentry);

	return cpa_entry_dentry(e, cpa_entry_top(e));
}

/* The branch of the topmost object of a positive union dentry. */
static inline struct cpa_branch *cpa_dentry_br(const struct dentry *dentry)
{
	const struct cpa_entry *e = CPA_E(dentry);

	return cpa_entry_br(dentry->d_sb, e, cpa_entry_top(e));
}

static inline struct inode *cpa_inode_real(const struct inode *inode)
{
	struct cpa_inode *ci = CPA_I(inode);

	/* Pairs with the release in copy-up: the copy is complete. */
	return smp_load_acquire(&ci->upper) ?: READ_ONCE(ci->real);
}

static inline bool cpa_branch_writable(const struct cpa_branch *br)
{
	return READ_ONCE(br->perm) == CPA_PERM_RW;
}

/*
 * Objects can be changed, created and removed through the union when it
 * has a writable branch (a remount may add or take them); lower objects
 * are copied up to one above them.
 */
static inline bool cpa_sb_writable(const struct super_block *sb)
{
	return READ_ONCE(CPA_SB(sb)->writable);
}

/*
 * Generations of branch tables: a dentry's d_time is the generation its
 * lookup saw, that of its parent's entry (of the table for the root), or
 * the one a later check found it still right in.
 */
static inline unsigned long cpa_gen(const struct dentry *dentry)
{
	/* Pairs with the releases in namei.c and udba.c. */
	return smp_load_acquire(&dentry->d_time);
}

/* Did the branches change since @dentry was looked up or checked? */
static inline bool cpa_stale(const struct dentry *dentry)
{
	return cpa_gen(dentry) != READ_ONCE(CPA_SB(dentry->d_sb)->br_gen);
}



#endif /* _CPPAUFS_ENTRY_H */
