package imapd

import "github.com/postdesk/postdesk/mailsvc/store"

// The store's writes take UID ranges, but its condition builder (whereUIDs
// in store/messages.go) matches only the first of several ranges: every
// range after the first is ANDed with the ones before. Until that is
// fixed there, these call the store once per range.

func (s *Session) storeFlags(folderID int64, uids []uint32, op store.FlagOp, fl store.Flags) ([]store.Message, error) {
	var out []store.Message
	for _, r := range uidRanges(uids) {
		c, err := s.st.StoreFlags(s.ctx, folderID, []store.UIDRange{r}, op, fl)
		if err != nil {
			return out, err
		}
		out = append(out, c...)
	}
	return out, nil
}

func (s *Session) copyUIDs(src, dst *store.Folder, uids []uint32, quota int64) (*store.CopyResult, error) {
	res := &store.CopyResult{UIDValidity: dst.UIDValidity}
	for _, r := range uidRanges(uids) {
		c, err := s.st.Copy(s.ctx, src, dst, []store.UIDRange{r}, quota)
		if err != nil {
			return res, err
		}
		res.Src, res.Dst = append(res.Src, c.Src...), append(res.Dst, c.Dst...)
	}
	return res, nil
}

func (s *Session) moveUIDs(src, dst *store.Folder, uids []uint32) (*store.CopyResult, error) {
	res := &store.CopyResult{UIDValidity: dst.UIDValidity}
	for _, r := range uidRanges(uids) {
		c, err := s.st.Move(s.ctx, src, dst, []store.UIDRange{r})
		if err != nil {
			return res, err
		}
		res.Src, res.Dst = append(res.Src, c.Src...), append(res.Dst, c.Dst...)
	}
	return res, nil
}
