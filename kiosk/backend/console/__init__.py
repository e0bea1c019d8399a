"""The staff console: server-rendered pages for librarians under /staff/."""
