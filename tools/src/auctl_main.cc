// auctl: see auctl.h.
#include <iostream>

#include <unistd.h>

#include "auctl.h"

int main(int argc, char** argv)
{
	cppaufs::AuctlOptions opts;
	int rc = cppaufs::parse_auctl_args(argc, argv, &opts, std::cout, std::cerr);
	if (rc >= 0)
		return rc;
	opts.terminal = ::isatty(STDOUT_FILENO);
	rc = cppaufs::run_auctl(opts, nullptr, std::cout, std::cerr);
	std::cout.flush();
	return rc;
}
