// SPDX-License-Identifier: ISC
// Copyright 2026 The rtlane authors

#define _GNU_SOURCE

#include "patchbay.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/// News queued between two follows.  More is dropped: what a lost break or
/// departure would have said, the follow reads off the graph anyway.
#define RTL_PATCHBAY_NEWS 128U

/// A broken connection is judged this long after the news.
#define RTL_PATCHBAY_SETTLE_NS 1000000000LL

/// Our short port names are at most this long ("midi_out", "in_64").
#define RTL_OUR_PORT_MAX 32U

typedef struct {
  char    ours[RTL_OUR_PORT_MAX];
  char    peer[RTL_PORT_NAME_MAX];
  bool    out;
  int64_t broken_ns; ///< 0, or when it was reported broken
  int64_t left_ns;   ///< 0, or when its peer's port was unregistered
  bool    awaited;   ///< Kept over a server restart, not made again yet
} Conn;

typedef enum {
  NEWS_CONNECTED,
  NEWS_BROKEN,
  NEWS_PEER_LEFT, ///< The peer's port was unregistered
} NewsKind;

typedef struct {
  char     ours[RTL_OUR_PORT_MAX];
  char     peer[RTL_PORT_NAME_MAX];
  bool     out;
  NewsKind kind;
} News;

struct RtlPatchbayImpl {
  RtlAllocator* allocator;

  // Shared with JACK's notification thread
  pthread_mutex_t lock;
  News            news[RTL_PATCHBAY_NEWS];
  unsigned        n_news;
  bool            peers_changed;
  bool            restore;

  // Control thread only
  Conn     conns[RTL_PATCHBAY_MAX];
  unsigned n_conns;
  News     taken[RTL_PATCHBAY_NEWS];
};

RtlStatus
rtl_patchbay_new(RtlAllocator* const allocator, RtlPatchbay** const patchbay)
{
  RtlPatchbay* const p =
    (RtlPatchbay*)rtl_calloc(allocator, 1U, sizeof(RtlPatchbay));
  *patchbay = p;
  if (!p) {
    return RTL_NO_MEM;
  }
  p->allocator = allocator;
  pthread_mutex_init(&p->lock, NULL);
  return RTL_SUCCESS;
}

void
rtl_patchbay_free(RtlPatchbay* const p)
{
  if (p) {
    pthread_mutex_destroy(&p->lock);
    rtl_free(p->allocator, p);
  }
}

static void
add_news(RtlPatchbay* const p,
         const char* const  ours,
         const char* const  peer,
         const bool         out,
         const NewsKind     kind)
{
  pthread_mutex_lock(&p->lock);
  if (p->n_news < RTL_PATCHBAY_NEWS) {
    News* const n = &p->news[p->n_news++];
    snprintf(n->ours, sizeof(n->ours), "%s", ours);
    snprintf(n->peer, sizeof(n->peer), "%s", peer);
    n->out  = out;
    n->kind = kind;
  }
  pthread_mutex_unlock(&p->lock);
}

void
rtl_patchbay_on_connect(RtlPatchbay* const p,
                        const char* const  ours,
                        const char* const  peer,
                        const bool         out,
                        const bool         connected)
{
  add_news(p, ours, peer, out, connected ? NEWS_CONNECTED : NEWS_BROKEN);
}

void
rtl_patchbay_on_register(RtlPatchbay* const p,
                         const char* const  port,
                         const bool         registered)
{
  if (registered) {
    pthread_mutex_lock(&p->lock);
    p->peers_changed = true;
    pthread_mutex_unlock(&p->lock);
  } else {
    add_news(p, "", port, false, NEWS_PEER_LEFT);
  }
}

void
rtl_patchbay_restart(RtlPatchbay* const p)
{
  pthread_mutex_lock(&p->lock);
  p->n_news  = 0U;
  p->restore = true;
  pthread_mutex_unlock(&p->lock);
  // What the old server broke or closed on its way out was nobody's choice
  for (unsigned i = 0U; i < p->n_conns; ++i) {
    p->conns[i].broken_ns = 0;
    p->conns[i].left_ns   = 0;
    p->conns[i].awaited   = true;
  }
}

static Conn*
find(RtlPatchbay* const p, const char* const ours, const char* const peer)
{
  for (unsigned i = 0U; i < p->n_conns; ++i) {
    if (!strcmp(p->conns[i].ours, ours) && !strcmp(p->conns[i].peer, peer)) {
      return &p->conns[i];
    }
  }
  return NULL;
}

static void
forget(RtlPatchbay* const p, Conn* const c)
{
  *c = p->conns[--p->n_conns];
}

static void
take_news(RtlPatchbay* const p, const News* const n, const int64_t now_ns)
{
  if (n->kind == NEWS_PEER_LEFT) {
    // Forgotten in a second, unless the server goes away meanwhile (a
    // server shutting down closes its clients before it tells us)
    for (unsigned i = 0U; i < p->n_conns; ++i) {
      if (!strcmp(p->conns[i].peer, n->peer) && !p->conns[i].left_ns) {
        p->conns[i].left_ns = now_ns ? now_ns : 1;
      }
    }
    return;
  }
  Conn* const c = find(p, n->ours, n->peer);
  if (n->kind == NEWS_CONNECTED) {
    if (c) {
      c->broken_ns = 0;
      c->left_ns   = 0;
      c->awaited   = false;
    } else if (p->n_conns < RTL_PATCHBAY_MAX) {
      Conn* const d = &p->conns[p->n_conns++];
      memcpy(d->ours, n->ours, sizeof(d->ours));
      memcpy(d->peer, n->peer, sizeof(d->peer));
      d->out       = n->out;
      d->broken_ns = 0;
      d->left_ns   = 0;
      d->awaited   = false;
    }
  } else if (c && !c->broken_ns) {
    c->broken_ns = now_ns ? now_ns : 1;
  }
}

unsigned
rtl_patchbay_follow(RtlPatchbay* const          p,
                    const RtlPatchbayOps* const ops,
                    const int64_t               now_ns)
{
  pthread_mutex_lock(&p->lock);
  const unsigned n_news  = p->n_news;
  const bool     restore = p->restore || p->peers_changed;
  memcpy(p->taken, p->news, n_news * sizeof(News));
  p->n_news        = 0U;
  p->restore       = false;
  p->peers_changed = false;
  pthread_mutex_unlock(&p->lock);

  for (unsigned i = 0U; i < n_news; ++i) {
    take_news(p, &p->taken[i], now_ns);
  }
  // JACK's news names ports by id, and a port that is gone by the time the
  // news is read cannot be named: a client that quits may go unreported,
  // and a full queue drops news.  So what the graph shows counts too: a
  // connection that was made and is not there now broke, and if its
  // peer's port is gone, the peer left.
  for (unsigned i = 0U; i < p->n_conns; ++i) {
    Conn* const c = &p->conns[i];
    if (c->awaited || c->broken_ns || c->left_ns) {
      continue;
    }
    if (!ops->exists(ops->data, c->peer)) {
      c->left_ns = now_ns ? now_ns : 1;
    } else if (!ops->connected(ops->data, c->ours, c->peer)) {
      c->broken_ns = now_ns ? now_ns : 1;
    }
  }

  // Settle what broke a second ago: a peer that left while the server
  // stayed, or that is still there and still apart, is let go; one that
  // is gone without leaving (the server died) is awaited.
  for (unsigned i = 0U; i < p->n_conns;) {
    Conn* const c = &p->conns[i];
    if (c->left_ns && now_ns - c->left_ns >= RTL_PATCHBAY_SETTLE_NS) {
      forget(p, c);
      continue;
    }
    if (c->broken_ns && now_ns - c->broken_ns >= RTL_PATCHBAY_SETTLE_NS) {
      if (!ops->exists(ops->data, c->peer)) {
        c->broken_ns = 0;
      } else if (!ops->connected(ops->data, c->ours, c->peer)) {
        forget(p, c);
        continue;
      } else {
        c->broken_ns = 0;
      }
    }
    ++i;
  }

  unsigned made = 0U;
  for (unsigned i = 0U; restore && i < p->n_conns; ++i) {
    Conn* const c = &p->conns[i];
    if (c->broken_ns || c->left_ns || !ops->exists(ops->data, c->peer)) {
      continue;
    }
    if (ops->connected(ops->data, c->ours, c->peer)) {
      c->awaited = false;
    } else if (ops->connect(ops->data, c->ours, c->peer, c->out)) {
      c->awaited = false;
      ++made;
    }
  }
  return made;
}

unsigned
rtl_patchbay_count(RtlPatchbay* const          p,
                   const RtlPatchbayOps* const ops,
                   unsigned* const             made)
{
  *made = 0U;
  for (unsigned i = 0U; ops && i < p->n_conns; ++i) {
    *made += ops->connected(ops->data, p->conns[i].ours, p->conns[i].peer);
  }
  return p->n_conns;
}
