package database

import "gorm.io/gorm"

// Tx is a write transaction handed from one package to another: a store
// delivery's, in which the queue adds its rows, delivery counts send
// limits and tenants writes an audit entry, so that all of it commits or
// none does. Package APIs take a Tx rather than the ORM's handle, so the
// handle stays inside the package that writes with it (Gorm) and a
// callee can't start or end the caller's transaction.
type Tx struct{ g *gorm.DB }

// TxOf wraps the transaction fn got from DB.Write, to hand it on.
func TxOf(g *gorm.DB) Tx { return Tx{g: g} }

// Gorm is the transaction's handle, for the package that writes in it.
func (t Tx) Gorm() *gorm.DB { return t.g }
