//! orchestra: runs ops procedures written as sandboxed Rhai playbooks.
