graph [
  DateObtained "hand-written for qkdnet tests"
  GeoLocation "Europe"
  GeoExtent "Continent"
  Network "GEANT-like"
  Provenance "A subset of Topology Zoo Geant2011.gml (nodes, coordinates, links) in its layout: no multigraph header although BG-RO and SE-FI are listed twice, UA and MD without coordinates, TR without links, DE-IL continental"
  Type "REN"
  Backbone 1
  label "GeantLike"
  node [
    id 0
    label "NL"
    Country "Netherlands"
    Longitude 4.88969
    Internal 1
    Latitude 52.37403
  ]
  node [
    id 1
    label "BE"
    Country "Belgium"
    Longitude 4.34878
    Internal 1
    Latitude 50.85045
  ]
  node [
    id 2
    label "DK"
    Country "Denmark"
    Longitude 12.56553
    Internal 1
    Latitude 55.67594
  ]
  node [
    id 3
    label "PL"
    Country "Poland"
    Longitude 16.96667
    Internal 1
    Latitude 52.41667
  ]
  node [
    id 4
    label "DE"
    Country "Germany"
    Longitude 8.68333
    Internal 1
    Latitude 50.11667
  ]
  node [
    id 5
    label "CZ"
    Country "Czech Republic"
    Longitude 14.42076
    Internal 1
    Latitude 50.08804
  ]
  node [
    id 6
    label "AT"
    Country "Austria"
    Longitude 16.37208
    Internal 1
    Latitude 48.20849
  ]
  node [
    id 7
    label "HU"
    Country "Hungary"
    Longitude 19.03991
    Internal 1
    Latitude 47.49801
  ]
  node [
    id 8
    label "BG"
    Country "Bulgaria"
    Longitude 23.32415
    Internal 1
    Latitude 42.69751
  ]
  node [
    id 9
    label "RO"
    Country "Romania"
    Longitude 26.10626
    Internal 1
    Latitude 44.43225
  ]
  node [
    id 10
    label "UA"
    Internal 1
  ]
  node [
    id 11
    label "MD"
    Internal 1
  ]
  node [
    id 12
    label "SE"
    Country "Sweden"
    Longitude 18.0649
    Internal 1
    Latitude 59.33258
  ]
  node [
    id 13
    label "FI"
    Country "Finland"
    Longitude 22.26869
    Internal 1
    Latitude 60.45148
  ]
  node [
    id 14
    label "IL"
    Country "Israel"
    Longitude 34.75
    Internal 1
    Latitude 31.5
  ]
  node [
    id 15
    label "TR"
    Country "Turkey"
    Longitude 34.91155
    Internal 1
    Latitude 39.05901
  ]
  node [
    id 16
    label "SK"
    Country "Slovakia"
    Longitude 17.10674
    Internal 1
    Latitude 48.14816
  ]
  edge [
    source 0
    target 1
    id "e60"
  ]
  edge [
    source 0
    target 2
    id "e5"
  ]
  edge [
    source 0
    target 4
    id "e6"
  ]
  edge [
    source 2
    target 4
    id "e8"
  ]
  edge [
    source 2
    target 12
    id "e3"
  ]
  edge [
    source 3
    target 10
  ]
  edge [
    source 3
    target 4
    LinkLabel "10 Gbps"
  ]
  edge [
    source 3
    target 5
    LinkLabel "10 Gbps"
  ]
  edge [
    source 4
    target 5
    id "e7"
  ]
  edge [
    source 4
    target 6
    LinkLabel "10 Gbps"
  ]
  edge [
    source 4
    target 14
    LinkLabel "2.5 Gbps"
  ]
  edge [
    source 5
    target 16
    id "e21"
  ]
  edge [
    source 7
    target 16
    id "e18"
  ]
  edge [
    source 16
    target 6
    id "e17"
  ]
  edge [
    source 8
    target 7
    LinkLabel "10 Gbps"
  ]
  edge [
    source 8
    target 9
    LinkLabel "10 Gbps"
  ]
  edge [
    source 8
    target 9
    LinkLabel "10 Gbps"
  ]
  edge [
    source 9
    target 7
    LinkLabel "10 Gbps"
  ]
  edge [
    source 11
    target 9
    LinkLabel "1 Gbps"
  ]
  edge [
    source 12
    target 13
    id "e2"
  ]
  edge [
    source 12
    target 13
    id "e1"
  ]
]
