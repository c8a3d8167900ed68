"""Receive an upload straight to a temporary file, hashing it and enforcing the size cap as it streams in."""

import hashlib

from django.core.files.uploadhandler import TemporaryFileUploadHandler

from apps.datasets.services import max_upload_bytes, too_large_error

# Room for the multipart boundaries and the note around the file itself.
MULTIPART_ALLOWANCE = 1024 * 1024


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Writes every chunk to disk (never the whole file in memory) and computes its SHA-256 on the way.

    A request whose declared length is over the cap is refused before any byte is read; one that grows past
    the cap while streaming is stopped there. Both answer 413 with the limit in the message.
    """

    # Django's multipart parser spends its time per chunk (reads, boundary search, handler calls): chunks of
    # 1 MB rather than its 64 KB cut that sixteenfold and still hold little in memory.
    chunk_size = 1024 * 1024

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > max_upload_bytes() + MULTIPART_ALLOWANCE:
            raise too_large_error(content_length)
        return super().handle_raw_input(input_data, META, content_length, boundary, encoding)

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.digest = hashlib.sha256()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > max_upload_bytes():
            self.file.close()
            raise too_large_error()
        self.digest.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self.digest.hexdigest()
        uploaded.size_received = self.received
        return uploaded
