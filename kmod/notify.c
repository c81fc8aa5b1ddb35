// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: udba=notify, fsnotify marks on the branch directories.
 *
 * udba=notify does what udba=reval does (udba.c), and watches the branch
 * directories of every union directory entry: one fsnotify group per
 * union, one inode mark per branch directory of an entry.  Whenever a
 * watched directory gains, loses or renames a name, is removed or renamed
 * itself, or changes attributes, the mark's handler bumps the union's
 * counter of changes, notify_gen.  An entry records the counter as it was
 * before it was last known valid (ngen); ->d_revalidate finds a dentry
 * valid at once when the counter is the same and the branch directories
 * it depends on, its parent's and for a directory its own, are watched.
 * Otherwise the stamps decide, as with udba=reval, and a match records
 * the counter read before them.
 *
 * The marks of an entry are made after its lookup, so a change made in
 * between is not counted: an entry starts with ngen 0, which never
 * matches, and is trusted only after its stamps matched once with the
 * marks in place.  Marks added to an entry in use (a refresh replaced it,
 * or a copy-up gave it an upper directory) bump the counter instead.
 *
 * The handler also forwards the names created, removed and renamed to the
 * union directory, so that inotify on the union sees changes made
 * directly in its branches; not whiteouts and internal names.  What the
 * union does itself (with the mounter's credentials, or making a name
 * with the caller's fsuid) is neither counted nor forwarded: the union
 * keeps its dentries right for it, and the VFS reports it on the union.
 *
 * A mark holds a reference to its union directory inode, dropped when the
 * mark is freed, after an SRCU grace period of fsnotify.  Marks are
 * destroyed when their entry is freed: a dentry may be released in memory
 * reclaim, and destroying a mark takes the group's mark lock, under which
 * fsnotify allocates; so they are queued and destroyed from a work item.
 * A refresh, never in reclaim, destroys the marks of the entry it
 * replaces at once, so that the new entry can take the directories over:
 * a group has one mark at most per inode.  When a mark cannot be made
 * (no memory, or the directory is watched for another union directory
 * meanwhile), the entry is not watched, and its stamps decide.
 */
#include <linux/fsnotify_backend.h>
#include <linux/llist.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "cppaufs.h"

/* What a mark of a branch directory wants to hear of. */
#define CPA_NOTIFY_EVENTS	(FS_CREATE | FS_DELETE | FS_MOVED_FROM | \
				 FS_MOVED_TO | FS_DELETE_SELF | \
				 FS_MOVE_SELF | FS_ATTRIB)
/* What the union directory is told of. */
#define CPA_NOTIFY_FORWARD	(FS_CREATE | FS_DELETE | FS_MOVED_FROM | \
				 FS_MOVED_TO)

struct cpa_mark {
	struct fsnotify_mark fsn;
	struct inode *dir;		/* union directory, referenced */
	struct cpa_mark *next;		/* the entry's next mark */
	struct llist_node dead;		/* queued to be destroyed */
};

static LLIST_HEAD(cpa_notify_dead);

static void cpa_mark_destroy(struct cpa_mark *m)
{
	fsnotify_destroy_mark(&m->fsn, m->fsn.group);
	fsnotify_put_mark(&m->fsn);
}

/* Destroy the marks queued: fsnotify's reaper frees them. */
static void cpa_notify_reap(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&cpa_notify_dead);
	struct cpa_mark *m, *next;

	llist_for_each_entry_safe(m, next, list, dead)
		cpa_mark_destroy(m);
}

static DECLARE_WORK(cpa_notify_work, cpa_notify_reap);

/* Count a change: every entry recorded before looks at its stamps. */
static void cpa_notify_bump(struct cpa_sb_info *sbi)
{
	/* Fully ordered; skips 0, which no entry matches. */
	if (unlikely(!atomic_long_inc_return(&sbi->notify_gen)))
		atomic_long_inc(&sbi->notify_gen);
}

static int cpa_notify_event(struct fsnotify_mark *mark, u32 mask,
			    struct inode *inode, struct inode *dir,
			    const struct qstr *name, u32 cookie)
{
	struct cpa_mark *m = container_of(mark, struct cpa_mark, fsn);
	struct inode *udir = m->dir;
	struct cpa_sb_info *sbi = CPA_SB(udir->i_sb);

	/*
	 * The union's own doing: with the mounter's credentials, or a name
	 * made with the caller's fsuid.  The union keeps its dentries right
	 * for what it does, as with udba=none, and the VFS reports it on the
	 * union: neither counted nor forwarded.
	 */
	if (current_cred() == sbi->creator_cred ||
	    READ_ONCE(CPA_I(udir)->maker) == current)
		return 0;
	cpa_notify_bump(sbi);
	if (!(mask & CPA_NOTIFY_FORWARD) || !name ||
	    cpa_is_wh_name(name->name, name->len))
		return 0;
	/*
	 * Under the branch directory's lock: fsnotify takes no inode lock,
	 * and the union has no mark on its own inodes.
	 */
	fsnotify(mask & (CPA_NOTIFY_FORWARD | FS_ISDIR), udir,
		 FSNOTIFY_EVENT_INODE, udir, name, NULL, cookie);
	return 0;
}

/* After an SRCU grace period: no handler runs with @mark any more. */
static void cpa_notify_free_mark(struct fsnotify_mark *mark)
{
	struct cpa_mark *m = container_of(mark, struct cpa_mark, fsn);

	iput(m->dir);
	kfree(m);
	cpa_objects_dec();
}

static const struct fsnotify_ops cpa_notify_ops = {
	.handle_inode_event	= cpa_notify_event,
	.free_mark		= cpa_notify_free_mark,
};

/* A mark on the branch directory @h_inode for the union directory @dir. */
static struct cpa_mark *cpa_mark_add_one(struct cpa_sb_info *sbi,
					 struct inode *h_inode,
					 struct inode *dir)
{
	struct cpa_mark *m = kzalloc(sizeof(*m), GFP_KERNEL);
	int err;

	if (!m)
		return ERR_PTR(-ENOMEM);
	cpa_objects_inc();
	fsnotify_init_mark(&m->fsn, sbi->notify_group);
	m->fsn.mask = CPA_NOTIFY_EVENTS;
	ihold(dir);
	m->dir = dir;
	err = fsnotify_add_inode_mark(&m->fsn, h_inode, 0);
	if (err) {
		/* Never attached: frees it now, and drops @dir. */
		fsnotify_put_mark(&m->fsn);
		return ERR_PTR(err);
	}
	return m;
}

/*
 * The same, or an ERR_PTR.  When the directory has a mark of the group
 * already, destroy those queued (*@flushed tells whether it was done) and
 * try once more.  Not in reclaim.
 */
static struct cpa_mark *cpa_mark_add(struct cpa_sb_info *sbi,
				     struct inode *h_inode, struct inode *dir,
				     bool *flushed)
{
	struct cpa_mark *m = cpa_mark_add_one(sbi, h_inode, dir);

	if (m == ERR_PTR(-EEXIST) && !*flushed) {
		*flushed = true;
		flush_work(&cpa_notify_work);
		m = cpa_mark_add_one(sbi, h_inode, dir);
	}
	return m;
}

static void cpa_marks_destroy(struct cpa_mark *list)
{
	struct cpa_mark *next;

	for (; list; list = next) {
		next = list->next;
		cpa_mark_destroy(list);
	}
}

/*
 * Watch the branch directories of the directory entry @e of the union
 * directory @dir, if not watched yet: not watched if one cannot be.
 * Before @e is published, or under the copy lock of @dir.  Not in
 * reclaim.
 */
void cpa_notify_watch(struct super_block *sb, struct cpa_entry *e,
		      struct inode *dir)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);
	struct dentry *upper = cpa_entry_upper(e);
	struct cpa_mark *list = NULL, *m;
	bool flushed = false;
	int i;

	if (!sbi->notify_group || e->watch)
		return;
	for (i = 0; i < e->count; i++) {
		struct dentry *h = i ? cpa_entry_dentry(e, i) : upper;

		if (!h)
			continue;
		m = cpa_mark_add(sbi, d_inode(h), dir, &flushed);
		if (IS_ERR(m)) {
			pr_debug("cannot watch %pd2 (%ld)\n", h, PTR_ERR(m));
			cpa_marks_destroy(list);
			return;
		}
		m->next = list;
		list = m;
	}
	WRITE_ONCE(e->watch_upper, upper);
	/* Pairs with the acquire in cpa_notify_watched(). */
	smp_store_release(&e->watch, list);
}

/*
 * The same for an entry in use, whose branch directories may have changed
 * before they were watched: the marks replace @e's, and every entry looks
 * at its stamps once.  Under the copy lock of @dir.
 */
void cpa_notify_rewatch(struct super_block *sb, struct cpa_entry *e,
			struct inode *dir)
{
	if (!CPA_SB(sb)->notify_group)
		return;
	cpa_notify_unwatch(e, true);
	cpa_notify_watch(sb, e, dir);
	/* Unwatched, nothing relies on it. */
	if (e->watch)
		cpa_notify_bump(CPA_SB(sb));
}

/*
 * Stop watching for the entry @e: at once with @now (not in reclaim),
 * else from a work item.
 */
void cpa_notify_unwatch(struct cpa_entry *e, bool now)
{
	struct cpa_mark *list = e->watch, *next;

	if (!list)
		return;
	WRITE_ONCE(e->watch, NULL);
	if (now) {
		cpa_marks_destroy(list);
		return;
	}
	for (; list; list = next) {
		next = list->next;
		if (llist_add(&list->dead, &cpa_notify_dead))
			schedule_work(&cpa_notify_work);
	}
}

/* udba=notify: the group of the union @sbi, at mount. */
int cpa_notify_init(struct cpa_sb_info *sbi)
{
	struct fsnotify_group *group = cpa_fsnotify_alloc_group(&cpa_notify_ops);

	if (IS_ERR(group))
		return PTR_ERR(group);
	atomic_long_set(&sbi->notify_gen, 1);
	sbi->notify_group = group;
	return 0;
}

/*
 * Unmount, once every dentry was released: every mark is queued, with the
 * entry that had it.  Destroy them and wait until they are freed, and
 * with them the references to union inodes; the group goes with its last
 * mark (fsnotify_destroy_group() is not exported).
 */
void cpa_notify_fini(struct cpa_sb_info *sbi)
{
	if (!sbi->notify_group)
		return;
	flush_work(&cpa_notify_work);
	fsnotify_wait_marks_destroyed();
	fsnotify_put_group(sbi->notify_group);
	sbi->notify_group = NULL;
}

/* Module exit: no mark is left to destroy or to free. */
void cpa_notify_exit(void)
{
	flush_work(&cpa_notify_work);
	fsnotify_wait_marks_destroyed();
}
