package mssim

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
)

// server accepts one connection on 127.0.0.1 and runs handle on it; the listener and
// connection are closed when the test ends.
func server(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		handle(c)
	}()
	return l.Addr().String()
}

// readRequest reads one TPM_SEND_COMMAND frame.
func readRequest(c net.Conn) (cmd uint32, locality byte, body []byte, err error) {
	var hdr [9]byte
	if _, err = io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	cmd, locality = binary.BigEndian.Uint32(hdr[:4]), hdr[4]
	body = make([]byte, binary.BigEndian.Uint32(hdr[5:]))
	_, err = io.ReadFull(c, body)
	return
}

func reply(rsp []byte, status uint32) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(rsp)))
	out = append(out, rsp...)
	return binary.BigEndian.AppendUint32(out, status)
}

func TestSend(t *testing.T) {
	command := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8}
	response := []byte{0x80, 0x01, 0, 0, 0, 20, 0, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}
	got := make(chan []byte, 1)
	addr := server(t, func(c net.Conn) {
		cmd, loc, body, err := readRequest(c)
		if err != nil || cmd != tpmSendCommand || loc != 0 {
			t.Errorf("request: command %d locality %d, %v", cmd, loc, err)
			return
		}
		got <- body
		// One byte at a time: the client must read whole replies.
		for _, b := range reply(response, 0) {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
		}
	})
	c, err := Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rsp, err := c.Send(command)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rsp, response) || !bytes.Equal(<-got, command) {
		t.Fatalf("Send = %x", rsp)
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name   string
		handle func(net.Conn)
	}{
		{"status", func(c net.Conn) { readRequest(c); c.Write(reply([]byte{1, 2}, 1)) }},
		{"empty", func(c net.Conn) { readRequest(c); c.Write(reply(nil, 0)) }},
		{"too long", func(c net.Conn) { readRequest(c); c.Write(binary.BigEndian.AppendUint32(nil, 1<<20)) }},
		{"closed", func(c net.Conn) { readRequest(c) }},
		{"truncated", func(c net.Conn) { readRequest(c); c.Write(reply([]byte{1, 2, 3}, 0)[:6]) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Dial(context.Background(), server(t, tt.handle))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Send([]byte{0x80, 0x01}); !errors.Is(err, ErrTransport) {
				t.Fatalf("Send: %v, want ErrTransport", err)
			}
		})
	}
}

func TestDialRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	if _, err := Dial(context.Background(), addr); !errors.Is(err, ErrTransport) {
		t.Fatalf("Dial to a closed port: %v, want ErrTransport", err)
	}
}

// TestCancel checks that cancelling the context ends a Send the simulator never answers.
func TestCancel(t *testing.T) {
	release, received := make(chan struct{}), make(chan struct{})
	defer close(release)
	addr := server(t, func(c net.Conn) {
		readRequest(c)
		close(received)
		<-release
	})
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		<-received // the Send is now waiting for the reply
		cancel()
	}()
	if _, err := c.Send([]byte{0x80, 0x01}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send after cancel: %v, want context.Canceled", err)
	}
}

// FuzzReadResponse feeds arbitrary replies to the framing parser: it must not panic, and
// what it accepts must be exactly the announced bytes with a zero status.
func FuzzReadResponse(f *testing.F) {
	f.Add(reply([]byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0}, 0))
	f.Add(reply([]byte{1}, 7))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rsp, err := readResponse(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := binary.BigEndian.Uint32(data)
		if int(n) != len(rsp) || n > maxResponse || n == 0 || !bytes.Equal(rsp, data[4:4+n]) ||
			binary.BigEndian.Uint32(data[4+n:]) != 0 {
			t.Fatalf("accepted %x as %x", data, rsp)
		}
	})
}
