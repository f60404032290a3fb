// wsproxy: a small WebSocket→TCP proxy, the local stand-in for Neon's proxy, so that the Neon
// serverless driver (in Node or in workerd) can reach a plain PostgreSQL or PgBouncer. The same
// protocol as test/harness/wsproxy.ts (Node's `ws`): a client connects to
// ws://127.0.0.1:PORT/v2?address=host:port, each message it sends is written to that TCP
// address, and every chunk read from TCP goes back as one binary message.
//
// Why Go and not the Node proxy: bench:workers measures workerd's share of a poll's CPU, and on
// the bench's 2 cores the Node proxy cost half as much CPU per poll as workerd itself, while in
// production Neon's proxy runs on Neon's machines. This one costs a fraction of that.
//
// It listens on 127.0.0.1 (port 0 by default) and prints the address it got as the first line
// on stdout. GET /stats on the same port answers the counters the bench reads, as JSON.
// Only loopback targets are allowed: this is a test tool, not an open relay.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// counters are what the Node proxy exposes as connections(), clientMessages() and open().
type counters struct {
	connections    atomic.Int64 // WebSocket connections accepted (one per database connection a client opened)
	clientMessages atomic.Int64 // messages clients sent (the Neon driver coalesces one tick's writes into one)
	open           atomic.Int64 // proxied connections open right now
	refused        atomic.Int64 // upgrades refused for their address (not counted in connections)
}

var loopback = map[string]bool{"127.0.0.1": true, "localhost": true, "::1": true}

// target returns the TCP address named by ?address=host:port, if it is a loopback one.
func target(r *http.Request) (string, bool) {
	host, port, err := net.SplitHostPort(r.URL.Query().Get("address"))
	if err != nil || !loopback[host] {
		return "", false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", false
	}
	return net.JoinHostPort(host, port), true
}

// Every poll is a new connection, so what a connection allocates is most of the proxy's garbage,
// and the collector's sweeping was a third of its CPU: the WebSocket reads use the HTTP server's
// buffered reader (size 0), and the write buffers and TCP read buffers are pooled.
var upgrader = websocket.Upgrader{
	WriteBufferSize: 16 << 10,
	WriteBufferPool: &sync.Pool{},
	// Only loopback clients can reach the listener; workerd and Node's ws send no browser Origin.
	CheckOrigin: func(*http.Request) bool { return true },
}

var readBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func proxy(c *counters, w http.ResponseWriter, r *http.Request) {
	addr, ok := target(r)
	if !ok {
		c.refused.Add(1)
		http.Error(w, "address not allowed: only loopback host:port targets", http.StatusForbidden)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil) // answers the failed handshake itself
	if err != nil {
		return
	}
	c.connections.Add(1)
	// Dialled after the upgrade, so the connect overlaps the client's reading of the 101; the
	// client's first messages wait in the socket meanwhile.
	tcp, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "connect failed"), time.Now().Add(time.Second))
		_ = ws.Close()
		return
	}
	_ = tcp.(*net.TCPConn).SetNoDelay(true) // Go's default; stated because every poll is a few small writes
	c.open.Add(1)
	var once sync.Once
	end := func() {
		once.Do(func() {
			c.open.Add(-1)
			_ = tcp.Close()
			_ = ws.Close()
		})
	}
	defer end()

	// TCP → WebSocket: one binary message per read, as the Node proxy sends one per 'data' chunk.
	// This goroutine is the only writer of data messages (gorilla allows one concurrent writer).
	go func() {
		defer end()
		bp := readBuffers.Get().(*[]byte)
		defer readBuffers.Put(bp)
		buf := *bp
		for {
			n, err := tcp.Read(buf)
			if n > 0 {
				if werr := ws.WriteMessage(websocket.BinaryMessage, buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				if err == io.EOF {
					_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				}
				return
			}
		}
	}()

	// WebSocket → TCP: every message, binary or text, written as it is.
	for {
		_, msg, err := ws.NextReader()
		if err != nil {
			return
		}
		c.clientMessages.Add(1)
		if _, err := io.Copy(tcp, msg); err != nil {
			return
		}
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback)")
	exitOnEOF := flag.Bool("exit-on-stdin-eof", false, "exit when stdin closes (the parent process is gone)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("wsproxy: ")
	// A new connection per poll makes garbage at a steady rate over a live heap of a few MB, so
	// with the default GOGC=100 the collector ran tens of times a second, its sweeping a third of
	// the proxy's CPU in a profile. Ten times the headroom costs tens of MB; GOGC still overrides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(1000)
	}
	// One P, as Node's proxy has one thread: at a poll every few ms a second P mostly spins
	// looking for work (about 20 % more CPU per connection measured at 180 connections/s, on the
	// cores workerd shares). One P still relays thousands of connections a second. GOMAXPROCS overrides.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}

	// Loopback only, like the targets: nothing beyond this machine may reach a relay to its ports.
	if host, _, err := net.SplitHostPort(*listen); err != nil || !loopback[host] {
		log.Fatalf("-listen %q: must be a loopback host:port", *listen)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	c := &counters{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("content-type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int64{
			"connections":    c.connections.Load(),
			"clientMessages": c.clientMessages.Load(),
			"open":           c.open.Load(),
			"refused":        c.refused.Load(),
		})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { proxy(c, w, r) })

	fmt.Println(ln.Addr().String())
	if *exitOnEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}()
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
