-- A photo's thumbnail (issue #19): made on the phone before upload (a JPEG,
-- long side ≤ 320 px, ≤ 64 KB, checked by its bytes like the photo) and kept
-- beside it, so records and lists show photos without sending 200–600 KB each.
-- Photos sent before this have none: the server then sends the photo itself.
ALTER TABLE field_photos
  ADD COLUMN thumb      bytea,
  ADD COLUMN thumb_mime text CHECK (thumb_mime IN ('image/jpeg', 'image/png', 'image/webp')),
  ADD CONSTRAINT field_photos_thumb_whole CHECK ((thumb IS NULL) = (thumb_mime IS NULL));
