// mount.cppaufs: see mount_helper.h.
#include <iostream>

#include "kernel.h"
#include "mount_helper.h"
#include "path_probe.h"

int main(int argc, char** argv)
{
	cppaufs::MountHelperOptions opts;
	int rc = cppaufs::parse_mount_helper_args(argc, argv, &opts, std::cout,
						  std::cerr);
	if (rc >= 0)
		return rc;
	cppaufs::LinuxMountSystem sys;
	cppaufs::DiskPathProbe probe;
	return cppaufs::run_mount_helper(opts, &sys, &probe, std::cout, std::cerr);
}
