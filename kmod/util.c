// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: small helpers shared by every file.
 */
#include <linux/atomic.h>
#include "cppaufs.h"

/*
 * Calls into branches run with the mounter's credentials, once the
 * caller's were checked against the union inode.
 */
const struct cred *cpa_override_creds(struct super_block *sb)
{
	return override_creds(CPA_SB(sb)->creator_cred);
}

void cpa_revert_creds(const struct cred *old)
{
	revert_creds(old);
}

/*
 * The mounter's credentials with the caller's fsuid and fsgid, so that
 * what is created on a branch belongs to the caller.  Returns the
 * credentials to put back with cpa_revert_creds_owner(), or an ERR_PTR.
 *
 * The copy (a reference to it) is ours until it is put back.  Whether override_creds() takes
 * a reference of its own, that revert_creds() drops, depends on the kernel
 * (compat.h); either way the pair leaves the count as it found it, and the
 * copy's own reference is dropped after the revert.
 */
const struct cred *cpa_override_creds_owner(struct super_block *sb)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);
	kuid_t fsuid = current_fsuid();
	kgid_t fsgid = current_fsgid();
	const struct cred *old, *c, *stale;
	struct cred *new;

	/*
	 * The copy made for the last owner is kept (it never changes, as
	 * the mounter's credentials do not): most creates reuse it.
	 */
	spin_lock(&sbi->owner_lock);
	c = sbi->owner_cred;
	if (c && uid_eq(c->fsuid, fsuid) && gid_eq(c->fsgid, fsgid)) {
		get_cred(c);
		spin_unlock(&sbi->owner_lock);
		return override_creds(c);
	}
	spin_unlock(&sbi->owner_lock);

	/* prepare_creds() copies the current credentials: the mounter's. */
	old = cpa_override_creds(sb);
	new = prepare_creds();
	cpa_revert_creds(old);
	if (!new)
		return ERR_PTR(-ENOMEM);
	new->fsuid = fsuid;
	new->fsgid = fsgid;
	spin_lock(&sbi->owner_lock);
	stale = sbi->owner_cred;
	sbi->owner_cred = get_cred(new);
	spin_unlock(&sbi->owner_lock);
	if (stale)
		put_cred(stale);
	return override_creds(new);
}

void cpa_revert_creds_owner(const struct cred *old)
{
	/* What cpa_override_creds_owner() put in force, ours to drop. */
	const struct cred *new = current_cred();

	revert_creds(old);
	put_cred(new);
}

/*
 * Objects the module allocates outside its slab cache (entries, listings,
 * open directories); unloading with any left is reported as a leak.
 */
static atomic_long_t cpa_objects = ATOMIC_LONG_INIT(0);

void cpa_objects_inc(void)
{
	atomic_long_inc(&cpa_objects);
}

void cpa_objects_dec(void)
{
	atomic_long_dec(&cpa_objects);
}

long cpa_objects_count(void)
{
	return atomic_long_read(&cpa_objects);
}
