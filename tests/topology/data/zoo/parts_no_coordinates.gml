graph [
  Network "PartsLike"
  Provenance "Hand-written in the layout of Topology Zoo Opteglobe.gml / IntNetworkmap.gml: no coordinates, a hyperedge junction with an empty label, a node without links and a separate two-node part"
  label "PartsLike"
  node [
    id 0
    label "Columbus"
    Internal 1
  ]
  node [
    id 1
    label "London"
    Internal 1
  ]
  node [
    id 2
    label "Amsterdam"
    Internal 1
  ]
  node [
    id 3
    label "Frankfurt"
    Internal 1
  ]
  node [
    id 4
    label ""
    hyperedge 1
    Internal 1
  ]
  node [
    id 5
    label "Paris"
    Internal 1
  ]
  node [
    id 6
    label "Lyon"
    Internal 1
  ]
  node [
    id 7
    label "Varna"
    Internal 1
  ]
  node [
    id 8
    label "Novorossiysk"
    Internal 1
  ]
  edge [
    source 1
    target 2
  ]
  edge [
    source 2
    target 3
  ]
  edge [
    source 3
    target 4
  ]
  edge [
    source 4
    target 5
  ]
  edge [
    source 4
    target 6
  ]
  edge [
    source 5
    target 1
  ]
  edge [
    source 5
    target 6
  ]
  edge [
    source 7
    target 8
  ]
]
