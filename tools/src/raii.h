// RAII owners for libmount and libsmartcols objects and file descriptors.
#ifndef CPPAUFS_TOOLS_RAII_H_
#define CPPAUFS_TOOLS_RAII_H_

#include <cstdlib>
#include <memory>

#include <libmount/libmount.h>
#include <libsmartcols/libsmartcols.h>
#include <unistd.h>

namespace cppaufs {

template <typename T, void (*Free)(T*)>
struct FreeWith {
	void operator()(T* p) const { Free(p); }
};

using MntTable = std::unique_ptr<libmnt_table, FreeWith<libmnt_table, mnt_unref_table>>;
using MntFs = std::unique_ptr<libmnt_fs, FreeWith<libmnt_fs, mnt_unref_fs>>;
using MntIter = std::unique_ptr<libmnt_iter, FreeWith<libmnt_iter, mnt_free_iter>>;
using MntUpdate = std::unique_ptr<libmnt_update, FreeWith<libmnt_update, mnt_free_update>>;
using ScolsTable =
	std::unique_ptr<libscols_table, FreeWith<libscols_table, scols_unref_table>>;

// A malloc()ed C string handed out by libmount or libsmartcols.
struct FreeC {
	void operator()(char* p) const { std::free(p); }
};
using CString = std::unique_ptr<char, FreeC>;

// An owned file descriptor; -1 means none.
class Fd {
public:
	Fd() = default;
	explicit Fd(int fd) : fd_(fd) {}
	Fd(Fd&& o) noexcept : fd_(o.release()) {}
	Fd& operator=(Fd&& o) noexcept
	{
		if (this != &o)
			reset(o.release());
		return *this;
	}
	Fd(const Fd&) = delete;
	Fd& operator=(const Fd&) = delete;
	~Fd() { reset(); }

	int get() const { return fd_; }
	bool valid() const { return fd_ >= 0; }
	int release()
	{
		int fd = fd_;
		fd_ = -1;
		return fd;
	}
	void reset(int fd = -1)
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}

private:
	int fd_ = -1;
};

} // namespace cppaufs

#endif // CPPAUFS_TOOLS_RAII_H_
